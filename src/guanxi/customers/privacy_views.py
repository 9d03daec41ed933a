"""个人信息保护 pages: the lawful bases on a customer, a data subject's copy, erasure, and the
retention purge lists. Thin: the rules, permissions and audit are in customers.privacy and
customers.subject_export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, PermissionDenied, error_text
from guanxi.core.ids import parse_id
from guanxi.customers import privacy, selectors, subject_export
from guanxi.customers.models import Consent, ConsentBasis, Customer, RetentionList

MSG_CONSENT_SAVED = _("处理依据已登记")
MSG_CONSENT_WITHDRAWN = _("处理依据已撤回")
MSG_ERASED = _("客户 %(code)s 的个人信息已清除")
MSG_APPROVED = _("清除清单已批准，%(n)s 个客户的个人信息已清除")
MSG_REJECTED = _("清除清单已驳回")


def _text(label: Any, max_length: int, required: bool = True, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs={"class": "form-control", **attrs}),
    )


class ConsentForm(forms.Form):
    """Shape only; customers.privacy.clean_consent decides."""

    subject_name = _text(_("个人信息主体"), 64, required=False)
    basis = forms.ChoiceField(
        label=_("处理依据"),
        choices=ConsentBasis.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    scope = _text(_("处理目的与范围"), 255, placeholder=_("如：产品推荐短信、售后回访"))
    source = _text(_("取得方式"), 64, placeholder=_("如：线上表单、纸质合同、电话录音"))
    evidence = _text(_("凭证"), 255, required=False, placeholder=_("合同编号、文件位置等"))
    given_at = _text(_("取得时间"), 40, type="datetime-local")
    expires_at = _text(_("有效期至"), 40, required=False, type="datetime-local")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


def _customer(request: HttpRequest, pk: int, action: str = "view") -> Customer:
    try:
        return selectors.customer_get(user=request.user, pk=pk, action=action)
    except NotFound as exc:
        raise Http404() from exc


def _privacy_anchor(customer: Customer) -> str:
    return reverse("customers:detail", args=[customer.pk]) + "#privacy"


def _put_errors(form: forms.Form, exc: ValidationError, default: str | None = None) -> None:
    for field, field_messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else default, field_messages)


def _reason_page(
    request: HttpRequest,
    call: Any,
    *,
    success: Any,
    then: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A confirmation page that takes a reason: GET shows it, POST runs ``call(reason,
    meta)`` and goes to ``then``, or shows the page again with the refusal."""
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            call(form.cleaned_data["reason"], RequestMeta.from_request(request))
        except ValidationError as exc:
            _put_errors(form, exc, default="reason")
        except NotFound as exc:
            raise Http404() from exc
        else:
            messages.success(request, success)
            return redirect(then)
    return render(
        request, template, {**context, "form": form}, status=422 if form.is_bound else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, pk: int) -> HttpResponse:
    require_page_perm(
        request, "customers.change_customer", "customer.consent_record", target="customer"
    )
    customer = _customer(request, pk, action="change")
    form = ConsentForm(request.POST or None, initial={"subject_name": customer.contact_name})
    if request.method == "POST" and form.is_valid():
        try:
            privacy.consent_record(
                actor=request.user,
                customer=customer,
                data=form.cleaned_data,
                meta=RequestMeta.from_request(request),
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        except NotFound as exc:
            raise Http404() from exc
        except DomainError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, MSG_CONSENT_SAVED)
            return redirect(_privacy_anchor(customer))
    return render(
        request,
        "customers/consent_form.html",
        {"customer": customer, "form": form},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    require_page_perm(
        request, "customers.change_customer", "customer.consent_withdraw", target="customer"
    )
    consent = get_object_or_404(Consent, pk=pk)
    customer = _customer(request, consent.customer_id, action="change")
    return _reason_page(
        request,
        lambda reason, meta: privacy.consent_withdraw(
            actor=request.user, consent=consent, reason=reason, meta=meta
        ),
        success=MSG_CONSENT_WITHDRAWN,
        then=_privacy_anchor(customer),
        template="customers/consent_withdraw.html",
        context={"customer": customer, "consent": consent},
    )


@login_required
@require_POST
def personal_data_export(request: HttpRequest, pk: int) -> HttpResponse:
    """A data subject's copy (JSON or XLSX); the service checks the permission and audits."""
    try:
        result = subject_export.subject_export(
            actor=request.user,
            customer_id=pk,
            fmt=request.POST.get("format", "xlsx"),
            meta=RequestMeta.from_request(request),
        )
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except NotFound as exc:
        raise Http404() from exc
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("customers:detail", pk=pk)
    response = FileResponse(
        result.file, as_attachment=True, filename=result.filename, content_type=result.content_type
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def customer_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation and a reason; POST erases the personal data for good."""
    require_page_perm(request, privacy.PRIVACY_PERM, "customer.erase", target="customer")
    customer = _customer(request, pk, action="change")
    return _reason_page(
        request,
        lambda reason, meta: privacy.customer_erase(
            actor=request.user, customer=customer, reason=reason, meta=meta
        ),
        success=MSG_ERASED % {"code": customer.code},
        then=reverse("customers:detail", args=[customer.pk]),
        template="customers/erase_confirm.html",
        context={"customer": customer},
    )


# --- retention purge lists -------------------------------------------------------------------


def _guard_privacy(request: HttpRequest) -> None:
    if not request.user.has_perm(privacy.PRIVACY_PERM):
        raise HttpForbidden()


@login_required
@require_GET
def retention_lists(request: HttpRequest) -> HttpResponse:
    _guard_privacy(request)
    lists = (
        RetentionList.objects.select_related("decided_by")
        .annotate(candidate_count=Count("candidates"))  # one query, not one per row
        .order_by("-created_at", "-id")
    )
    context = {"lists": lists[:100], "idle_days": privacy.retention_idle_days()}
    return render(request, "customers/retention_lists.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def retention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidates of one list; POST ``decision`` approve (with the kept ones) or reject."""
    _guard_privacy(request)
    purge_list = get_object_or_404(RetentionList, pk=pk)
    error = None
    if request.method == "POST":
        meta = RequestMeta.from_request(request)
        comment = request.POST.get("comment", "")
        try:
            if request.POST.get("decision") == "reject":
                privacy.retention_reject(
                    actor=request.user, retention_list=purge_list, comment=comment, meta=meta
                )
                messages.success(request, MSG_REJECTED)
            else:
                keep = [k for k in map(parse_id, request.POST.getlist("keep")) if k is not None]
                done = privacy.retention_approve(
                    actor=request.user,
                    retention_list=purge_list,
                    keep_ids=keep,
                    comment=comment,
                    meta=meta,
                )
                messages.success(request, MSG_APPROVED % {"n": done.erased_count})
            return redirect("customers:retention_detail", pk=purge_list.pk)
        except ValidationError as exc:
            error = "；".join(exc.messages)
        except DomainError as exc:
            error = error_text(exc)
    candidates = purge_list.candidates.select_related("customer", "customer__owner").order_by(
        "last_activity_at", "pk"
    )
    context = {"purge_list": purge_list, "candidates": candidates, "error": error}
    return render(request, "customers/retention_detail.html", context, status=422 if error else 200)
