"""Merging a duplicate customer into the one that survives.

The user picks, per field, which record's value wins. Everything that hangs on the merged
record (tags, and whatever later modules attach by a foreign key: contacts, follow-ups,
orders, tickets ...) moves to the survivor. The merged record is not deleted: it leaves the
live set with ``merged_into`` pointing at the survivor and a ``CustomerMerge`` row that keeps
both snapshots, the choices and the moved counts, so a merge can always be inspected.

Related models are found through Django's relation metadata, so a new module's rows move
without code here; a model whose rows cannot simply be re-pointed (a unique constraint on the
customer) registers a handler with :func:`register_merge_handler`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.permissions import require_perm
from guanxi.customers.choices import CustomerType
from guanxi.customers.contacts import merge_contacts
from guanxi.customers.models import Customer, CustomerMerge, CustomerTag, StatusChange
from guanxi.customers.name_keys import sync_name_keys
from guanxi.customers.services import (
    announce_change,
    diff,
    lock_for_write,
    refresh_derived,
    snapshot,
)
from guanxi.customers.validation import MSG_ID_FOR_ENTERPRISE, MSG_USCC_FOR_INDIVIDUAL
from guanxi.workflow import approvals

MERGE_PERM = "customers.merge_customer"
SURVIVOR, MERGED, BOTH = "survivor", "merged", "both"

# What the user chooses between, and the columns each choice carries: an address is only
# meaningful whole, and the owner brings their department.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "customer_type": ("customer_type",),
    "contact_name": ("contact_name",),
    "mobile": ("mobile",),
    "phone": ("phone",),
    "email": ("email",),
    "uscc": ("uscc",),
    "id_number": ("id_number",),
    "address": ("province", "city", "district", "address"),
    "industry": ("industry",),
    "category": ("category",),
    "source": ("source",),
    "status": ("status",),
    "owner": ("owner_id", "department_id"),
    "notes": ("notes",),
}
# Rows that stay with the merged record: its own status history and merge bookkeeping.
KEEP_ON_MERGED = {
    "customers.StatusChange",
    "customers.CustomerMerge",
    "customers.CustomerNameKey",
    # A proposal is about the merged record's own business dates; the job re-judges the survivor.
    "customers.ChurnProposal",
    "customers.Customer",
}

MSG_SAME = _("不能将客户与其自身合并")
MSG_BAD_CHOICE = _("无效的字段取值选择：%(fields)s")

register_actions({"customer.merge": _("合并客户"), "customer.merged_into": _("客户被合并")})

MergeHandler = Callable[[Customer, Customer], int]
_handlers: dict[str, MergeHandler] = {}


def register_merge_handler(label: str, handler: MergeHandler) -> None:
    """``handler(survivor, merged)`` moves ``label``'s rows itself and returns how many moved."""
    _handlers[label] = handler


def _move_tags(survivor: Customer, merged: Customer) -> int:
    """Tags are a set: the merged record's tags the survivor lacks move, shared ones go once."""
    have = CustomerTag.objects.filter(customer=survivor).values_list("tag_id", flat=True)
    moved = (
        CustomerTag.objects.filter(customer=merged)
        .exclude(tag_id__in=list(have))
        .update(customer=survivor)
    )
    CustomerTag.objects.filter(customer=merged).delete()
    return moved


register_merge_handler("customers.CustomerTag", _move_tags)
# One primary contact per customer: the merged side's primary is demoted when both have one.
register_merge_handler("customers.Contact", merge_contacts)


def _allowed(group: str) -> tuple[str, ...]:
    return (SURVIVOR, MERGED, BOTH) if group == "notes" else (SURVIVOR, MERGED)


def _value(customer: Customer, group: str) -> tuple[Any, ...]:
    return tuple(getattr(customer, column) for column in FIELD_GROUPS[group])


def default_choices(survivor: Customer, merged: Customer) -> dict[str, str]:
    """The survivor's value wins unless it is empty and the merged one is not; notes from both
    sides are kept together."""
    choices = {}
    for group in FIELD_GROUPS:
        mine, theirs = _value(survivor, group), _value(merged, group)
        if group == "notes" and mine[0] and theirs[0] and mine != theirs:
            choices[group] = BOTH
        elif not any(mine) and any(theirs):
            choices[group] = MERGED
        else:
            choices[group] = SURVIVOR
    return choices


def _check_choices(choices: Mapping[str, str]) -> None:
    bad = [g for g, side in choices.items() if g not in FIELD_GROUPS or side not in _allowed(g)]
    if bad:
        raise ValidationError({"fields": [MSG_BAD_CHOICE % {"fields": "、".join(sorted(bad))}]})


def _apply(survivor: Customer, merged: Customer, choices: Mapping[str, str]) -> None:
    for group, side in choices.items():
        if side == MERGED:
            for column in FIELD_GROUPS[group]:
                setattr(survivor, column, getattr(merged, column))
        elif side == BOTH:
            survivor.notes = f"{survivor.notes}\n\n{merged.notes}".strip()[:5000]
    if survivor.customer_type == CustomerType.INDIVIDUAL and survivor.uscc:
        raise ValidationError({"uscc": [MSG_USCC_FOR_INDIVIDUAL]})
    if survivor.customer_type == CustomerType.ENTERPRISE and survivor.id_number:
        raise ValidationError({"id_number": [MSG_ID_FOR_ENTERPRISE]})
    # Custom fields: the survivor's values stand; the merged record fills the gaps.
    survivor.custom_fields = {**(merged.custom_fields or {}), **(survivor.custom_fields or {})}
    follow_ups = [d for d in (survivor.last_follow_up_at, merged.last_follow_up_at) if d]
    survivor.last_follow_up_at = max(follow_ups) if follow_ups else None


def _move_related(survivor: Customer, merged: Customer) -> dict[str, int]:
    """Re-point every row that references the merged record (except KEEP_ON_MERGED)."""
    moved: dict[str, int] = {}
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        label = rel.related_model._meta.label
        if label in KEEP_ON_MERGED:
            continue
        handler = _handlers.get(label)
        if handler is not None:
            count = handler(survivor, merged)
        else:
            column = rel.field.name
            count = rel.related_model._base_manager.filter(**{column: merged}).update(
                **{column: survivor}
            )
        if count:
            moved[label] = moved.get(label, 0) + count
    return moved


@audited_refusals("customer.merge")
def customer_merge(
    *,
    actor: Any,
    survivor: Customer,
    merged: Customer,
    choices: Mapping[str, str] | None = None,
    reason: str = "",
    meta: RequestMeta | None = None,
) -> CustomerMerge:
    """Merge ``merged`` into ``survivor`` (both live and in the actor's write scope)."""
    require_perm(actor, MERGE_PERM)
    if survivor.pk == merged.pk:
        raise ValidationError({"merged_id": [MSG_SAME]})
    _check_choices(choices or {})
    with transaction.atomic():
        # Lock in id order so two merges of the same pair cannot deadlock.
        locked = {
            c.pk: lock_for_write(actor, c) for c in sorted((survivor, merged), key=lambda c: c.pk)
        }
        keep, gone = locked[survivor.pk], locked[merged.pk]
        resolved = {**default_choices(keep, gone), **(choices or {})}
        keep_before, gone_before = snapshot(keep), snapshot(gone)
        old_status, keep_before_core = keep.status, keep.name_core
        now = timezone.now()
        # The merged record leaves the live set first, so its name is free for the survivor.
        gone.deleted_at, gone.deleted_by, gone.merged_into = now, actor, keep
        gone.version += 1
        gone.save(update_fields=["deleted_at", "deleted_by", "merged_into", "version"])
        _apply(keep, gone, resolved)
        refresh_derived(keep)
        moved = _move_related(keep, gone)
        keep.version += 1
        keep.updated_by, keep.updated_at = actor, now
        keep.save()
        if keep.name_core != keep_before_core:
            sync_name_keys([(keep.pk, keep.name_core)])
        if keep.status != old_status:
            StatusChange.objects.create(
                customer=keep,
                from_status=old_status,
                to_status=keep.status,
                reason=str(_("合并客户 %(code)s") % {"code": gone.code}),
                changed_by=actor,
                changed_at=now,
                ip=(meta or RequestMeta()).ip,
            )
        record = CustomerMerge.objects.create(
            survivor=keep,
            merged=gone,
            field_choices=resolved,
            survivor_before=keep_before,
            merged_before=gone_before,
            moved=moved,
            reason=reason[:255],
            merged_by=actor,
            merged_at=now,
        )
        approvals.cancel_pending(actor=actor, object_type="customer", object_id=gone.pk, meta=meta)
        audit_record(
            actor=actor,
            action="customer.merge",
            obj=keep,
            changes=diff(keep_before, snapshot(keep)),
            params={
                "merge_id": record.pk,
                "merged_id": gone.pk,
                "merged_code": gone.code,
                "moved": moved,
                "reason": reason,
            },
            meta=meta,
        )
        audit_record(
            actor=actor,
            action="customer.merged_into",
            obj=gone,
            changes={"deleted_at": [None, now], "merged_into": [None, keep.pk]},
            params={"merge_id": record.pk, "survivor_code": keep.code},
            meta=meta,
        )
        announce_change([keep.pk, gone.pk], "customer.merge")
    return record
