"""The approval engine: submit a change to its flow, approve or reject it step by step.

Generic on purpose: an app registers, per (object type, action), what happens when one of
its requests is finally approved or rejected (``register``); customers use it for new
records and renames, sales and service will use it for quotes, contracts and applications.

A step applies when its condition holds on the request's payload; its approvers are fixed
when it starts (one open ``ApprovalTask`` each, and a notification). Any one of them
decides for the step. When no approver can be found (no manager, an empty role), the
step goes to the administrators rather than leaving the request stuck.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DomainError, NotFound
from guanxi.workflow.conditions import condition_holds
from guanxi.workflow.models import (
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    ApprovalTask,
    ApproverKind,
)
from guanxi.workflow.notifications import admins, notify

MSG_COMMENT_REQUIRED = _("驳回时必须填写原因")
MSG_COMMENT_TOO_LONG = _("意见不能超过500个字符")
MSG_NOT_YOURS = _("该申请当前不由您审批")
MSG_ALREADY_DECIDED = _("该申请已处理")

register_actions(
    {
        "approval.submit": _("提交审批"),
        "approval.approve": _("审批通过"),
        "approval.reject": _("审批驳回"),
        "approval.cancel": _("撤销审批"),
    }
)


class NotYourTurn(DomainError):
    code = "ERR-002"


class AlreadyDecided(DomainError):
    code = "ERR-023"


@dataclass(frozen=True)
class Handler:
    """What an app does with its decided requests (each runs inside the deciding
    transaction; raising refuses the decision)."""

    on_approved: Callable[[ApprovalRequest, Any, RequestMeta | None], None]
    on_rejected: Callable[[ApprovalRequest, Any, RequestMeta | None], None]
    url: Callable[[ApprovalRequest], str] = lambda request: ""


_HANDLERS: dict[tuple[str, str], Handler] = {}


def register(object_type: str, action: str, handler: Handler) -> None:
    _HANDLERS[(object_type, action)] = handler


def handler_for(request: ApprovalRequest) -> Handler:
    return _HANDLERS[(request.object_type, request.action)]


def active_flow(object_type: str, action: str) -> ApprovalFlow | None:
    """The enabled flow for this kind of change, if any (none: the change needs no approval)."""
    return ApprovalFlow.objects.filter(object_type=object_type, action=action, enabled=True).first()


def _steps(flow: ApprovalFlow) -> list[ApprovalStep]:
    return list(flow.steps.prefetch_related("roles", "users").order_by("order"))


def _approvers(step: ApprovalStep, submitter: Any) -> list[Any]:
    from guanxi.accounts.choices import UserStatus
    from guanxi.accounts.models import User

    live = User.objects.filter(is_active=True, status=UserStatus.ACTIVE)
    if step.approver_kind == ApproverKind.ROLE:
        found = list(live.filter(roles__in=step.roles.all()).distinct().order_by("id"))
    elif step.approver_kind == ApproverKind.MANAGER:
        dept = submitter.department
        manager_id = dept.manager_id if dept is not None else None
        found = list(live.filter(pk=manager_id)) if manager_id else []
    else:
        found = list(live.filter(pk__in=step.users.all()).order_by("id"))
    return found or admins()


def _start_step(request: ApprovalRequest, after: int | None) -> bool:
    """Open the first applicable step after ``after``; False when none is left."""
    for step in _steps(request.flow):
        if after is not None and step.order <= after:
            continue
        if not condition_holds(step.condition, request.payload):
            continue
        approvers = _approvers(step, request.submitted_by)
        ApprovalTask.objects.bulk_create(
            ApprovalTask(request=request, step_order=step.order, step_name=step.name, approver=user)
            for user in approvers
        )
        request.step_order = step.order
        request.save(update_fields=["step_order"])
        notify(
            approvers,
            kind="approval.todo",
            title=str(_("待您审批：%(summary)s") % {"summary": request.summary}),
            body=str(_("提交人：%(name)s") % {"name": request.submitted_by.name}),
            url=f"/approvals/{request.pk}/",
        )
        return True
    return False


def _finish(request: ApprovalRequest, status: str, actor: Any, meta: RequestMeta | None) -> None:
    request.status = status
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at", "comment", "step_order"])
    handler = handler_for(request)
    if status == ApprovalStatus.APPROVED:
        handler.on_approved(request, actor, meta)
        title = _("审批已通过：%(summary)s")
    else:
        handler.on_rejected(request, actor, meta)
        title = _("审批被驳回：%(summary)s")
    notify(
        [request.submitted_by],
        kind=f"approval.{status}",
        title=str(title % {"summary": request.summary}),
        body=request.comment,
        url=handler.url(request),
    )


def approval_submit(
    *,
    actor: Any,
    flow: ApprovalFlow,
    obj: Any,
    action: str,
    summary: str,
    payload: dict[str, Any],
    meta: RequestMeta | None = None,
) -> ApprovalRequest:
    """Start ``flow`` for a change of ``obj`` (inside the caller's transaction). A flow none
    of whose steps applies approves at once: the handler runs before this returns."""
    request = ApprovalRequest.objects.create(
        flow=flow,
        object_type=flow.object_type,
        object_id=obj.pk,
        action=action,
        summary=summary[:200],
        payload=payload,
        submitted_by=actor,
    )
    audit_record(
        actor=actor,
        action="approval.submit",
        obj=request,
        object_repr=request.summary,
        params={"object_type": flow.object_type, "object_id": obj.pk, "action": action},
        meta=meta,
    )
    if not _start_step(request, after=None):
        _finish(request, ApprovalStatus.APPROVED, actor, meta)
    return request


def _open_task(request: ApprovalRequest, actor: Any) -> ApprovalTask:
    if request.status != ApprovalStatus.PENDING:
        raise AlreadyDecided(MSG_ALREADY_DECIDED)
    task = (
        ApprovalTask.objects.select_for_update()
        .filter(request=request, step_order=request.step_order, approver=actor, is_open=True)
        .first()
    )
    if task is None:
        raise NotYourTurn(MSG_NOT_YOURS)
    return task


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationError({"comment": [MSG_COMMENT_REQUIRED]})
    if len(comment) > 500:
        raise ValidationError({"comment": [MSG_COMMENT_TOO_LONG]})
    return comment


def _lock(request: ApprovalRequest) -> ApprovalRequest:
    try:
        return ApprovalRequest.objects.select_for_update().select_related("flow").get(pk=request.pk)
    except ApprovalRequest.DoesNotExist as exc:
        raise NotFound() from exc


def _close_step(request: ApprovalRequest, task: ApprovalTask, decision: str, comment: str) -> None:
    now = timezone.now()
    task.decision, task.comment, task.decided_at, task.is_open = decision, comment, now, False
    task.save(update_fields=["decision", "comment", "decided_at", "is_open"])
    # The other approvers of this step no longer have anything to do.
    ApprovalTask.objects.filter(request=request, step_order=task.step_order, is_open=True).update(
        is_open=False
    )


def _decide(
    actor: Any, approval: ApprovalRequest, decision: str, comment: str, meta: RequestMeta | None
) -> ApprovalRequest:
    """Close the actor's step with ``decision``; a rejection, or an approval with no
    applicable step left, finishes the request (and runs its handler)."""
    rejecting = decision == ApprovalStatus.REJECTED
    comment = _clean_comment(comment, required=rejecting)
    with transaction.atomic():
        request = _lock(approval)
        task = _open_task(request, actor)
        _close_step(request, task, decision, comment)
        audit_record(
            actor=actor,
            action="approval.reject" if rejecting else "approval.approve",
            obj=request,
            object_repr=request.summary,
            params={"step": task.step_order, "comment": comment},
            meta=meta,
        )
        if rejecting or not _start_step(request, after=task.step_order):
            request.comment = comment
            _finish(request, decision, actor, meta)
    return request


@audited_refusals("approval.approve", target="approval")
def approval_approve(
    *, actor: Any, approval: ApprovalRequest, comment: str = "", meta: RequestMeta | None = None
) -> ApprovalRequest:
    """Approve the current step; the last applicable step applies the change."""
    return _decide(actor, approval, ApprovalStatus.APPROVED, comment, meta)


@audited_refusals("approval.reject", target="approval")
def approval_reject(
    *, actor: Any, approval: ApprovalRequest, comment: str, meta: RequestMeta | None = None
) -> ApprovalRequest:
    """Reject at the current step with a reason, which goes back to the submitter."""
    return _decide(actor, approval, ApprovalStatus.REJECTED, comment, meta)


def cancel_pending(
    *,
    actor: Any,
    object_type: str,
    object_id: int,
    actions: Iterable[str] | None = None,
    meta: Any = None,
) -> int:
    """Withdraw the object's pending requests (of ``actions``, or all): a purged record has
    nothing left to approve, and its approvers nothing left to do. Returns how many."""
    pending_qs = ApprovalRequest.objects.select_for_update().filter(
        object_type=object_type, object_id=object_id, status=ApprovalStatus.PENDING
    )
    if actions is not None:
        pending_qs = pending_qs.filter(action__in=list(actions))
    pending = list(pending_qs)
    for request in pending:
        request.status = ApprovalStatus.CANCELLED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        request.tasks.filter(is_open=True).update(is_open=False)
        audit_record(
            actor=actor,
            action="approval.cancel",
            obj=request,
            object_repr=request.summary,
            meta=meta,
        )
    return len(pending)
