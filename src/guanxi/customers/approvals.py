"""Customers under review: new records wait for approval, renames are requests.

A customer created by someone who may not approve it (``customers.approve_customer``) is
待审核 while the "customer/create" flow runs; approved it becomes usable, rejected it goes
back to its creator with the reason, to fix and resubmit. A new name on an approved
customer is a "customer/rename" request; the name changes when it is approved, and the
history shows both names. With the flow disabled, neither needs approval.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import NotFound, PendingReview
from guanxi.core.permissions import require_perm
from guanxi.customers import duplicates
from guanxi.customers.choices import ReviewStatus
from guanxi.customers.models import Customer
from guanxi.customers.name_keys import sync_name_keys
from guanxi.workflow import approvals
from guanxi.workflow.models import ApprovalRequest, ApprovalStatus

OBJECT_TYPE = "customer"
CREATE, RENAME = "create", "rename"
APPROVE_PERM = "customers.approve_customer"

MSG_PENDING = _("客户“%(name)s”待审核，审核通过后才能修改")
MSG_RENAME_PENDING = _("已有待审核的改名申请（“%(name)s”），请等待审批结果")
MSG_NOT_REJECTED = _("只有被驳回的客户可以重新提交")

register_actions(
    {
        "customer.review": _("客户审核"),
        "customer.resubmit": _("重新提交审核"),
        "customer.rename": _("客户改名"),
    }
)


def may_approve(actor: Any) -> bool:
    return actor.has_perm(APPROVE_PERM)


def review_needed(actor: Any) -> bool:
    """Whether a new customer by ``actor`` starts 待审核 (not an approver, flow enabled)."""
    return not may_approve(actor) and approvals.active_flow(OBJECT_TYPE, CREATE) is not None


def is_editable(customer: Customer) -> bool:
    """Pending records are frozen until decided (pages hide their edit buttons)."""
    return customer.review_status != ReviewStatus.PENDING


def ensure_editable(customer: Customer) -> None:
    if not is_editable(customer):
        raise PendingReview(MSG_PENDING % {"name": customer.name})


def submit_new(*, actor: Any, customer: Customer, meta: RequestMeta | None) -> ApprovalRequest:
    """Start the review of a new (or fixed) customer, inside the caller's transaction."""
    flow = approvals.active_flow(OBJECT_TYPE, CREATE)
    assert flow is not None  # callers check review_needed first
    return approvals.approval_submit(
        actor=actor,
        flow=flow,
        obj=customer,
        action=CREATE,
        summary=str(_("新客户：%(name)s") % {"name": customer.name}),
        payload=_condition_fields(customer),
        meta=meta,
    )


def rename_needs_approval(actor: Any, customer: Customer, new_name: str) -> bool:
    """A new name on an approved customer, by someone who may not approve, with the flow on."""
    return (
        new_name != customer.name
        and customer.review_status == ReviewStatus.APPROVED
        and not may_approve(actor)
        and approvals.active_flow(OBJECT_TYPE, RENAME) is not None
    )


def submit_rename(
    *, actor: Any, customer: Customer, new_name: str, meta: RequestMeta | None
) -> ApprovalRequest:
    """Ask for a new name (one open request per customer), inside the caller's transaction."""
    pending = pending_rename(customer)
    if pending is not None:
        raise ValidationError({"name": [MSG_RENAME_PENDING % {"name": pending.payload["new"]}]})
    flow = approvals.active_flow(OBJECT_TYPE, RENAME)
    assert flow is not None
    return approvals.approval_submit(
        actor=actor,
        flow=flow,
        obj=customer,
        action=RENAME,
        summary=str(_("客户改名：%(old)s → %(new)s") % {"old": customer.name, "new": new_name}),
        payload={**_condition_fields(customer), "old": customer.name, "new": new_name},
        meta=meta,
    )


def pending_rename(customer: Customer) -> ApprovalRequest | None:
    return ApprovalRequest.objects.filter(
        object_type=OBJECT_TYPE,
        object_id=customer.pk,
        action=RENAME,
        status=ApprovalStatus.PENDING,
    ).first()


@audited_refusals("customer.resubmit")
def customer_resubmit(
    *, actor: Any, customer: Customer, meta: RequestMeta | None = None
) -> Customer:
    """Send a rejected customer, fixed by its creator, back to review."""
    from guanxi.customers import services

    require_perm(actor, "customers.change_customer")
    with transaction.atomic():
        current = services.lock_for_write(actor, customer)
        if current.review_status != ReviewStatus.REJECTED:
            raise ValidationError({"review_status": [MSG_NOT_REJECTED]})
        if review_needed(actor):
            _set_review(current, ReviewStatus.PENDING, actor, "customer.resubmit", meta)
            submit_new(actor=actor, customer=current, meta=meta)
        else:  # the flow was switched off meanwhile, or the actor may approve
            _set_review(current, ReviewStatus.APPROVED, actor, "customer.review", meta)
    return current


def _condition_fields(customer: Customer) -> dict[str, Any]:
    """What flow conditions may test: the non-personal fields of the customer."""
    fields = ("name", "customer_type", "status", "category", "industry", "source", "province")
    values: dict[str, Any] = {f: getattr(customer, f) for f in fields}
    values["department_id"] = customer.department_id
    return values


def _locked(pk: int) -> Customer:
    """The customer a decided request is about, locked. Not scoped: the flow chose the
    approver, who need not be able to edit the record themselves."""
    try:
        return Customer.objects.select_for_update().alive().get(pk=pk)
    except Customer.DoesNotExist as exc:
        raise NotFound() from exc


def _set_review(
    customer: Customer,
    status: str,
    actor: Any,
    action: str,
    meta: RequestMeta | None,
    **params: Any,
) -> None:
    old = customer.review_status
    customer.review_status = status
    customer.version += 1
    customer.updated_at = timezone.now()
    customer.save(update_fields=["review_status", "version", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        obj=customer,
        changes={"review_status": [old, status]},
        params=params or None,
        meta=meta,
    )


# --- what a decided request does -----------------------------------------------------------


def _create_approved(request: ApprovalRequest, actor: Any, meta: RequestMeta | None) -> None:
    customer = _locked(request.object_id)
    _set_review(
        customer, ReviewStatus.APPROVED, actor, "customer.review", meta, approval=request.pk
    )


def _create_rejected(request: ApprovalRequest, actor: Any, meta: RequestMeta | None) -> None:
    customer = _locked(request.object_id)
    _set_review(
        customer,
        ReviewStatus.REJECTED,
        actor,
        "customer.review",
        meta,
        approval=request.pk,
        reason=request.comment,
    )


def _rename_approved(request: ApprovalRequest, actor: Any, meta: RequestMeta | None) -> None:
    from guanxi.customers import services

    customer = _locked(request.object_id)
    old, new = customer.name, request.payload["new"]
    if old == new:
        return
    duplicates.raise_if_duplicates(actor, {"name": new}, customer.pk)
    customer.name = new
    services.refresh_derived(customer)
    customer.version += 1
    customer.updated_by = actor
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
            sync_name_keys([(customer.pk, customer.name_core)])
    except IntegrityError as exc:
        raise services.name_race_lost(new) from exc
    audit_record(
        actor=actor,
        action="customer.rename",
        obj=customer,
        changes={"name": [old, new]},
        params={"approval": request.pk, "requested_by": request.submitted_by_id},
        meta=meta,
    )


def _nothing(request: ApprovalRequest, actor: Any, meta: RequestMeta | None) -> None:
    """A rejected rename changes nothing; the reason is on the request."""


def _customer_url(request: ApprovalRequest) -> str:
    return f"/customers/{request.object_id}/"


approvals.register(
    OBJECT_TYPE, CREATE, approvals.Handler(_create_approved, _create_rejected, _customer_url)
)
approvals.register(
    OBJECT_TYPE, RENAME, approvals.Handler(_rename_approved, _nothing, _customer_url)
)
