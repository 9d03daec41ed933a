"""Undoing a customer import batch: its new customers go, its updates are put back.

A customer created by the batch and changed since (by a person, or a later import) is not
removed silently: the undo is refused, naming how many, so nobody's work is lost. Updates
are put back through ``customer_update`` only where the record is still at the version the
import left it at."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.crypto import decrypt, encrypt
from guanxi.core.models import CustomField
from guanxi.customers import services
from guanxi.customers.models import Customer
from guanxi.customers.validation import EDITABLE_FIELDS, SENSITIVE_FIELDS
from guanxi.dataio.models import ImportBatch, ImportUpdate

MSG_CHANGED = _("本批次导入的 %(count)s 条记录在导入后已被修改，不能整批撤销")
# What an import update may change: the form's fields but status, tags and owner (changed
# through their own services), plus custom values.
RESTORABLE = (
    *(f for f in EDITABLE_FIELDS if f not in ("status", "tags", "owner_id")),
    "custom_fields",
)
SENSITIVE = SENSITIVE_FIELDS
CHUNK = 2000


def before_values(customer: Customer) -> dict[str, Any]:
    """What an update may change, to put back on undo; personal values stay encrypted."""
    values = {f: getattr(customer, f) for f in RESTORABLE}
    for field in SENSITIVE:
        values[field] = encrypt(values[field] or "")
    return values


def _restored(before: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in before.items() if k in RESTORABLE}
    for field in SENSITIVE:
        if field in data:
            data[field] = decrypt(data[field]) if data[field] else ""
    return data


def _changed_since(batch: ImportBatch) -> int:
    created = Customer.objects.filter(import_batch=batch, version__gt=1).count()
    left_at = dict(ImportUpdate.objects.filter(batch=batch).values_list("object_id", "version"))
    now_at = Customer.objects.filter(pk__in=list(left_at)).values_list("pk", "version")
    updated = sum(1 for pk, version in now_at if version != left_at[pk])
    return created + updated


def undo_customers(*, actor: Any, batch: ImportBatch, custom: list[CustomField]) -> dict[str, int]:
    """Runs inside the caller's transaction; returns what was removed and restored."""
    changed = _changed_since(batch)
    if changed:
        raise ValidationError(MSG_CHANGED % {"count": changed})
    removed = 0
    while ids := list(
        Customer.objects.filter(import_batch=batch).values_list("pk", flat=True)[:CHUNK]
    ):
        Customer.objects.filter(pk__in=ids).delete()
        removed += len(ids)
    restored = 0
    for update in ImportUpdate.objects.filter(batch=batch).order_by("-id"):
        customer = Customer.objects.get(pk=update.object_id)
        data = _restored(update.before)
        services.customer_update(
            actor=actor, customer=customer, data=data, version=customer.version
        )
        restored += 1
    return {"removed": removed, "restored": restored}
