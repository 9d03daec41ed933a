"""Reading approvals: the inbox (open tasks of the caller), and one request for those who
take part in it (submitter, any approver) or may oversee every flow."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, paginate
from guanxi.workflow.models import ApprovalRequest, ApprovalStatus, ApprovalTask

OVERSEE_PERM = "workflow.view_approvalrequest"


def _base() -> QuerySet:
    return ApprovalRequest.objects.select_related("submitted_by", "flow")


def inbox_queryset(user: Any) -> QuerySet:
    """Requests waiting on ``user`` now (an open task on the current step)."""
    open_task = ApprovalTask.objects.filter(request=OuterRef("pk"), approver=user, is_open=True)
    return _base().filter(Exists(open_task), status=ApprovalStatus.PENDING)


def involved_queryset(user: Any) -> QuerySet:
    """Requests ``user`` submitted or had a task on (everything, for flow overseers)."""
    if user.has_perm(OVERSEE_PERM):
        return _base()
    tasks = ApprovalTask.objects.filter(request=OuterRef("pk"), approver=user)
    return _base().filter(Q(submitted_by=user) | Q(Exists(tasks)))


def approval_list(
    *, user: Any, status: str = ApprovalStatus.PENDING, cursor: str | None = None, limit: int = 20
) -> Page:
    """``pending``: the caller's inbox; any other status: the requests they took part in."""
    if status == ApprovalStatus.PENDING:
        qs = inbox_queryset(user)
    else:
        qs = involved_queryset(user)
        if status:
            qs = qs.filter(status=status)
    return paginate(qs.order_by("-id"), ordering="-id", cursor=cursor, limit=limit)


def pending_count(user: Any) -> int:
    """The inbox badge."""
    return ApprovalTask.objects.filter(approver=user, is_open=True).count()


def approval_get(*, user: Any, pk: Any) -> ApprovalRequest:
    try:
        return involved_queryset(user).get(pk=int(pk))
    except (ApprovalRequest.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def approval_tasks(request: ApprovalRequest) -> list[ApprovalTask]:
    """The request's steps as they went: who had a turn, who decided, with what comment."""
    return list(request.tasks.select_related("approver").order_by("step_order", "id"))


def may_decide(user: Any, request: ApprovalRequest) -> bool:
    return (
        request.status == ApprovalStatus.PENDING
        and request.tasks.filter(
            step_order=request.step_order, approver=user, is_open=True
        ).exists()
    )


def latest_for(object_type: str, object_id: int, action: str) -> ApprovalRequest | None:
    """The newest request of one kind about one object (the rejection reason shown on it)."""
    return (
        ApprovalRequest.objects.filter(object_type=object_type, object_id=object_id, action=action)
        .order_by("-id")
        .first()
    )
