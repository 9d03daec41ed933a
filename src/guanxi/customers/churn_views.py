"""流失预警 pages (/customers/churn/...). Thin: reads through customers.churn_selectors,
writes through customers.churn."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, PermissionDenied, error_text
from guanxi.core.ids import parse_id
from guanxi.customers import churn, churn_selectors
from guanxi.customers.models import ChurnProposal

PAGE_SIZE = 20
MSG_ACCEPTED = _("客户“%(name)s”已标记为流失客户")
MSG_DISMISSED = _("已忽略客户“%(name)s”的流失预警")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=(("accept", _("确认流失")), ("dismiss", _("忽略"))))
    reason = forms.CharField(
        label=_("忽略原因（选填）"),
        required=False,
        max_length=churn.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


def _get(request: HttpRequest, pk: int) -> ChurnProposal:
    try:
        return churn_selectors.churn_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc
    except PermissionDenied as exc:
        raise HttpForbidden() from exc


@login_required
@require_GET
def churn_list(request: HttpRequest) -> HttpResponse:
    """Pending proposals the user may act on, the longest-idle customers first."""
    customer_id = parse_id(request.GET.get("customer", ""))
    try:
        proposals = churn_selectors.churn_pending(user=request.user, customer_id=customer_id)
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rule_days": churn.churn_after_days(),
        "filtered": customer_id is not None,
    }
    return render(request, "customers/churn_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def churn_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the customer's proposal; POST confirms (status → 流失) or dismisses it."""
    require_page_perm(request, churn.CHANGE_PERMISSION, churn.ACCEPT_ACTION, target="proposal")
    proposal = _get(request, pk)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        meta = RequestMeta.from_request(request)
        name = proposal.customer.name
        try:
            if form.cleaned_data["decision"] == "accept":
                churn.churn_accept(actor=request.user, proposal=proposal, meta=meta)
                messages.success(request, MSG_ACCEPTED % {"name": name})
            else:
                churn.churn_dismiss(
                    actor=request.user,
                    proposal=proposal,
                    reason=form.cleaned_data["reason"],
                    meta=meta,
                )
                messages.success(request, MSG_DISMISSED % {"name": name})
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            messages.error(request, error_text(exc))
        return redirect("customers:churn_list")
    return render(request, "customers/churn_decide.html", {"proposal": proposal, "form": form})
