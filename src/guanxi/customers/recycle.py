"""What follows a delete: restore from the recycle bin, purge for good, and the retention job.

``customers.services.customer_delete`` puts a customer in the bin (soft delete). From there
it comes back (restore) or goes for good (purge, by hand with a reason or by the retention
job once ``GUANXI_RECYCLE_BIN_DAYS`` have passed). A purge deletes the row and its children
(tag links, status changes; the search index rows go with the row, by trigger on SQLite and
with the indexed column on PostgreSQL). The audit log keeps the purge with its reason and the
customer's code and name, never personal values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DeleteRefused, DuplicateRecord, NotFound
from guanxi.core.permissions import require_perm
from guanxi.customers import approvals as customer_approvals
from guanxi.customers.choices import CustomerStatus, ReviewStatus
from guanxi.customers.duplicates import find_exact
from guanxi.customers.models import Customer, StatusChange
from guanxi.customers.recycle_selectors import retention_days
from guanxi.customers.services import announce_change
from guanxi.workflow import approvals

RESTORE_ACTION = "customer.restore"
PURGE_ACTION = "customer.purge"
PURGE_PERMISSION = "customers.purge_customer"
REASON_MAX_LENGTH = 500
EXPIRED_REASON = "保留期满自动清除"
BATCH_SIZE = 200

MSG_REASON_REQUIRED = _("请填写彻底删除的原因")
MSG_REASON_TOO_LONG = _("原因不能超过 %(max)s 个字符")
MSG_NAME_TAKEN = _("已有未删除的客户使用名称“%(name)s”，请先修改该客户名称后再恢复")
MSG_PURGE_LINKED = _("该客户仍有关联的业务记录，无法彻底删除")

register_actions({RESTORE_ACTION: _("恢复客户"), PURGE_ACTION: _("彻底删除客户")})


def _locked_in_bin(actor: Any, customer: Customer) -> Customer:
    """The deleted customer, locked, within the actor's write scope; NotFound otherwise
    (a live customer is not in the bin, and out of scope reads as missing)."""
    try:
        return (
            Customer.objects.select_for_update()
            .in_bin()
            .restrict(actor, "change")
            .get(pk=customer.pk)
        )
    except Customer.DoesNotExist as exc:
        raise NotFound() from exc


def _name_taken(actor: Any, customer: Customer) -> DuplicateRecord:
    visible, hidden = find_exact(
        actor=actor, values={"name": customer.name}, exclude_id=customer.pk
    )
    return DuplicateRecord(
        MSG_NAME_TAKEN % {"name": customer.name},
        duplicates=visible,
        hidden_count=hidden,
        matched_on=["name"],
    )


@audited_refusals(RESTORE_ACTION)
def customer_restore(
    *, actor: Any, customer: Customer, meta: RequestMeta | None = None
) -> Customer:
    """Bring a customer back from the bin as 未合作, unless a live customer took its name
    meanwhile (names are unique among live customers)."""
    require_perm(actor, "customers.delete_customer")
    try:
        with transaction.atomic():
            current = _locked_in_bin(actor, customer)
            if Customer.objects.alive().filter(name_key=current.name_key).exists():
                raise _name_taken(actor, current)
            now, old_status, deleted_at = timezone.now(), current.status, current.deleted_at
            current.status = CustomerStatus.NOT_COOPERATING
            current.deleted_at = None
            current.deleted_by = None
            current.version += 1
            current.updated_by = actor
            current.updated_at = now
            current.save(
                update_fields=[
                    "status",
                    "deleted_at",
                    "deleted_by",
                    "version",
                    "updated_by",
                    "updated_at",
                ]
            )
            changes: dict[str, list[Any]] = {"deleted_at": [deleted_at, None]}
            if current.review_status == ReviewStatus.PENDING:
                _restart_review(actor, current, changes, meta)
            if old_status != current.status:
                changes["status"] = [old_status, current.status]
                StatusChange.objects.create(
                    customer=current,
                    from_status=old_status,
                    to_status=current.status,
                    reason=str(_("从回收站恢复")),
                    changed_by=actor,
                    changed_at=now,
                    ip=(meta or RequestMeta()).ip,
                )
            audit_record(
                actor=actor, action=RESTORE_ACTION, obj=current, changes=changes, meta=meta
            )
            announce_change([current.pk], "customer.restore")
    except IntegrityError as exc:
        # Lost a race on the live-name constraint against a concurrent create or restore.
        raise _name_taken(actor, customer) from exc
    return current


def _restart_review(
    actor: Any, customer: Customer, changes: dict[str, list[Any]], meta: RequestMeta | None
) -> None:
    """A customer binned while 待审核 lost its request on delete: review it again, or
    approve it outright when the restorer may approve (as on create)."""
    if customer_approvals.review_needed(actor):
        customer_approvals.submit_new(actor=actor, customer=customer, meta=meta)
        return
    customer.review_status = ReviewStatus.APPROVED
    customer.save(update_fields=["review_status"])
    changes["review_status"] = [ReviewStatus.PENDING, ReviewStatus.APPROVED]


def clean_reason(reason: Any) -> str:
    """The purge reason, trimmed; ValidationError naming the field when blank or too long."""
    text = str(reason or "").strip()
    if not text:
        raise ValidationError({"reason": [MSG_REASON_REQUIRED]})
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [MSG_REASON_TOO_LONG % {"max": REASON_MAX_LENGTH}]})
    return text


def _purge_row(current: Customer, *, actor: Any, reason: str, meta: RequestMeta | None) -> None:
    """Delete one locked, deleted customer with its children and audit it by code and name."""
    pk, code, name, deleted_at = current.pk, current.code, current.name, current.deleted_at
    try:
        with transaction.atomic():
            current.delete()
            approvals.cancel_pending(actor=actor, object_type="customer", object_id=pk, meta=meta)
    except (ProtectedError, RestrictedError) as exc:
        raise DeleteRefused(MSG_PURGE_LINKED, reason="linked") from exc
    audit_record(
        actor=actor,
        action=PURGE_ACTION,
        object_type="customer",
        object_id=pk,
        object_repr=f"{name}（{code}）",
        params={"reason": reason, "code": code, "name": name, "deleted_at": deleted_at},
        meta=meta,
    )


@audited_refusals(PURGE_ACTION)
def customer_purge(
    *, actor: Any, customer: Customer, reason: str, meta: RequestMeta | None = None
) -> None:
    """Delete a customer from the bin for good: explicit, reasoned and audited (DESIGN.md
    rule 6). Only customers already in the bin; live ones must be deleted first."""
    require_perm(actor, PURGE_PERMISSION)
    text = clean_reason(reason)
    with transaction.atomic():
        current = _locked_in_bin(actor, customer)
        _purge_row(current, actor=actor, reason=text, meta=meta)


def purge_expired(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """The retention job: purge every customer deleted ``GUANXI_RECYCLE_BIN_DAYS`` or more
    days before ``now``, in batches (one transaction each), one audit entry per customer with
    no actor. A customer that cannot be purged is audited as failed and skipped. Returns how
    many were purged."""
    days = retention_days()
    if days == 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    expired = Customer.objects.in_bin().filter(deleted_at__lte=cutoff)
    purged, last_id = 0, 0
    while True:
        ids = list(
            expired.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return purged
        last_id = ids[-1]
        with transaction.atomic():
            # Locked and re-checked: a customer restored meanwhile is no longer expired.
            for row in expired.select_for_update().filter(pk__in=ids).order_by("pk"):
                try:
                    _purge_row(row, actor=None, reason=EXPIRED_REASON, meta=None)
                    purged += 1
                except DeleteRefused as exc:
                    audit_record(
                        actor=None,
                        action=PURGE_ACTION,
                        result=AuditResult.FAILED,
                        obj=row,
                        error_code=exc.code,
                        params={"reason": EXPIRED_REASON, "error": str(exc)},
                    )
