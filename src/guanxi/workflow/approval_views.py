"""审批中心: the caller's inbox, what they submitted or decided, and one request with its
steps, where the current approver approves or rejects with a comment.

Thin: reads through workflow.approval_selectors, decisions through workflow.approvals.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.list_pages import page_or_first
from guanxi.workflow import approval_selectors as selectors
from guanxi.workflow import approvals
from guanxi.workflow.models import ApprovalStatus

PAGE_SIZE = 20
TABS = (
    ("pending", _("待我审批")),
    ("approved", _("已通过")),
    ("rejected", _("已驳回")),
)
STATUS_BADGES = {
    "pending": "text-bg-warning",
    "approved": "text-bg-success",
    "rejected": "text-bg-danger",
    "cancelled": "text-bg-secondary",
}
MSG_APPROVED = _("已审批通过")
MSG_REJECTED = _("已驳回，原因已通知提交人")


@login_required
@require_GET
def approval_inbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ApprovalStatus.PENDING)
    if status not in dict(TABS):
        status = ApprovalStatus.PENDING
    page = page_or_first(
        request, selectors.approval_list, user=request.user, status=status, limit=PAGE_SIZE
    )
    context = {
        "page": page,
        "status": status,
        "tabs": TABS,
        "badges": STATUS_BADGES,
        "pending_count": selectors.pending_count(request.user),
        "table_target": "#approval-table",
    }
    return render(request, "workflow/approvals.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        approval = selectors.approval_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc
    comment = request.POST.get("comment", "")
    error = ""
    if request.method == "POST":
        decide = request.POST.get("decision")
        service = approvals.approval_reject if decide == "reject" else approvals.approval_approve
        try:
            service(
                actor=request.user,
                approval=approval,
                comment=comment,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            error = "；".join(m for msgs in exc.message_dict.values() for m in msgs)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("approvals:detail", pk=approval.pk)
        else:
            messages.success(request, MSG_REJECTED if decide == "reject" else MSG_APPROVED)
            return redirect("approvals:inbox")
    context = {
        "approval": approval,
        "tasks": selectors.approval_tasks(approval),
        "may_decide": selectors.may_decide(request.user, approval),
        "badges": STATUS_BADGES,
        "comment": comment,
        "error": error,
        "object_url": approvals.handler_for(approval).url(approval),
    }
    return render(request, "workflow/approval_detail.html", context, status=422 if error else 200)
