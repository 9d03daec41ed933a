"""Undoing a contact or follow-up import batch: the records it created go, the records it
updated (or, for contacts, demoted from primary) are put back.

As for customers (dataio.undo), nobody's later work is lost silently: if a record the batch
created was changed since (version > 1), or a record it updated is no longer at the
version the import left it at, the whole undo is refused, naming how many. Restores go
through the services (version-checked, audited) and run in reverse order, so a record the
batch touched twice ends as it was before the first touch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

from guanxi.core.crypto import decrypt, encrypt
from guanxi.customers import contacts, follow_ups
from guanxi.customers.models import Contact, FollowUp
from guanxi.dataio.models import ImportBatch, ImportUpdate
from guanxi.dataio.undo import MSG_CHANGED

CHUNK = 2000


# --- before values -------------------------------------------------------------------------


def contact_before(contact: Contact) -> dict[str, Any]:
    """What an import's update may change on a contact; personal values stay encrypted."""
    values: dict[str, Any] = {f: getattr(contact, f) for f in contacts.EDITABLE_FIELDS}
    for field in contacts.SENSITIVE_FIELDS:
        values[field] = encrypt(values[field] or "")
    values["birthday"] = values["birthday"].isoformat() if values["birthday"] else None
    return values


def _contact_restored(before: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in before.items() if k in contacts.EDITABLE_FIELDS}
    for field in contacts.SENSITIVE_FIELDS:
        if field in data:
            data[field] = decrypt(data[field]) if data[field] else ""
    if not data.get("is_primary"):
        # A primary is never un-made directly: the contact demoted for this one gets its
        # flag back from its own record.
        data.pop("is_primary", None)
    return data


def follow_up_before(follow_up: FollowUp) -> dict[str, Any]:
    """A follow-up's editable values as JSON (times as ISO text with their offset)."""
    values = follow_ups.snapshot(follow_up)
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in values.items()}


# --- undo ----------------------------------------------------------------------------------


def _changed_since(model: type[Model], batch: ImportBatch) -> int:
    """Created records edited since, plus updated records no longer at the version the
    batch left them at (the batch's last record of each counts)."""
    created = model._default_manager.filter(import_batch=batch, version__gt=1).count()
    left_at = dict(
        ImportUpdate.objects.filter(batch=batch).order_by("id").values_list("object_id", "version")
    )
    ids = list(left_at)
    current: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        current.update(
            model._default_manager.filter(pk__in=ids[start : start + CHUNK]).values_list(
                "pk", "version"
            )
        )
    return created + sum(1 for pk, version in left_at.items() if current.get(pk) != version)


def _remove(model: type[Model], batch: ImportBatch) -> int:
    removed = 0
    manager = model._default_manager
    while ids := list(manager.filter(import_batch=batch).values_list("pk", flat=True)[:CHUNK]):
        manager.filter(pk__in=ids).delete()
        removed += len(ids)
    return removed


def _refuse_if_changed(model: type[Model], batch: ImportBatch) -> None:
    changed = _changed_since(model, batch)
    if changed:
        raise ValidationError(MSG_CHANGED % {"count": changed})


def undo_contacts(*, actor: Any, batch: ImportBatch) -> dict[str, int]:
    """Runs inside the caller's transaction; returns what was removed and restored."""
    _refuse_if_changed(Contact, batch)
    removed = _remove(Contact, batch)
    restored = 0
    for update in ImportUpdate.objects.filter(batch=batch).order_by("-id"):
        contact = Contact.objects.filter(pk=update.object_id).first()
        if contact is None:  # one of the batch's own contacts, removed above
            continue
        if set(update.before) == {"is_primary"}:
            contacts.contact_set_primary(actor=actor, contact=contact)
        else:
            contacts.contact_update(
                actor=actor,
                contact=contact,
                data=_contact_restored(update.before),
                version=contact.version,
            )
        restored += 1
    return {"removed": removed, "restored": restored}


def undo_follow_ups(*, actor: Any, batch: ImportBatch) -> dict[str, int]:
    """Runs inside the caller's transaction; the customers' follow-up stamps follow."""
    from guanxi.dataio.importers.follow_ups import refresh_follow_up_stamps

    _refuse_if_changed(FollowUp, batch)
    customer_ids = set(
        FollowUp.objects.filter(import_batch=batch)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    removed = _remove(FollowUp, batch)
    restored = 0
    for update in ImportUpdate.objects.filter(batch=batch).order_by("-id"):
        follow_up = FollowUp.objects.get(pk=update.object_id)
        follow_ups.follow_up_update(
            actor=actor, follow_up=follow_up, data=update.before, version=follow_up.version
        )
        restored += 1
    refresh_follow_up_stamps(customer_ids)
    return {"removed": removed, "restored": restored}
