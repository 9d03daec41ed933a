"""客户分群 pages: the segment list (live counts loaded per row by htmx), save the customer
list's filters as a segment, edit, delete. Thin: customers.segments decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, PermissionDenied, error_text
from guanxi.customers import segments, selectors
from guanxi.customers.models import Segment

MSG_SAVED = _("分群“%(name)s”已保存")
MSG_DELETED = _("分群“%(name)s”已删除")


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("分群名称"), max_length=100, required=False)
    description = forms.CharField(label=_("说明"), max_length=255, required=False)
    shared = forms.BooleanField(
        label=_("共享给所有人（各自只看到自己数据范围内的客户）"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, can_share: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required_mark = True  # type: ignore[attr-defined]
        if not can_share:
            del self.fields["shared"]


def _segment(request: HttpRequest, pk: int) -> Segment:
    try:
        return segments.segment_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc


def list_url(segment: Segment) -> str:
    """The customer list showing the segment (its parameters, applied in the viewer's scope)."""
    from django.urls import reverse

    query = urlencode(segment.params or {})
    return reverse("customers:list") + (f"?{query}" if query else "")


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    require_page_perm(request, "customers.view_segment", "segment.view")
    items = [
        {"segment": s, "url": list_url(s), "editable": segments.editable(request.user, s)}
        for s in segments.segment_list(user=request.user)
    ]
    return render(request, "customers/segments/list.html", {"items": items})


@login_required
@require_GET
def segment_count(request: HttpRequest, pk: int) -> HttpResponse:
    """The live count of one segment for the viewer (htmx fragment)."""
    segment = _segment(request, pk)
    count = segments.segment_count(user=request.user, segment=segment)
    return render(
        request,
        "customers/segments/_count.html",
        {"count": count, "capped": count > selectors.COUNT_CAP, "cap": selectors.COUNT_CAP},
    )


def _filter_labels(params: dict[str, Any]) -> list[tuple[str, str]]:
    from guanxi.customers.filters import CustomerFilter
    from guanxi.customers.models import Customer

    filters = CustomerFilter(queryset=Customer.objects.none()).filters
    return [(str(getattr(filters.get(k), "label", k) or k), str(v)) for k, v in params.items()]


@login_required
@require_http_methods(["GET", "POST"])
def segment_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (GET carries the customer list's filters) or edit a segment."""
    segment = _segment(request, pk) if pk is not None else None
    require_page_perm(
        request,
        "customers.add_segment",
        "segment.update" if segment else "segment.create",
        target="segment",
    )
    if segment is not None and not segments.editable(request.user, segment):
        raise HttpForbidden()
    can_share = request.user.has_perm("customers.change_segment")
    source = request.POST if request.method == "POST" else request.GET
    if segment is not None:
        params: dict[str, Any] = dict(segment.params)
        initial = {
            "name": segment.name,
            "description": segment.description,
            "shared": segment.shared,
        }
    else:
        params = {
            k: source.get(k)
            for k in source
            if not k.startswith("_")
            and k not in ("name", "description", "shared", "csrfmiddlewaretoken")
        }
        params = {k: v for k, v in params.items() if v and k not in segments.NOT_FILTERS}
        initial = {}
    form = SegmentForm(request.POST or None, initial=initial, can_share=can_share)
    status, problem = 200, ""
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        if segment is None:
            data["params"] = params
        meta = RequestMeta.from_request(request)
        try:
            if segment is None:
                saved = segments.segment_create(actor=request.user, data=data, meta=meta)
            else:
                saved = segments.segment_update(
                    actor=request.user, segment=segment, data=data, meta=meta
                )
            messages.success(request, MSG_SAVED % {"name": saved.name})
            return redirect("customers:segment_list")
        except ValidationError as exc:
            for field, field_messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, field_messages)
            status = 422
        except DomainError as exc:
            problem, status = error_text(exc), 403 if isinstance(exc, PermissionDenied) else 409
    elif request.method == "POST":
        status = 422
    context = {
        "form": form,
        "segment": segment,
        "params": params,
        "param_labels": _filter_labels(params),
        "problem": problem,
    }
    return render(request, "customers/segments/form.html", context, status=status)


@login_required
@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    require_page_perm(request, "customers.add_segment", "segment.delete", segment=segment)
    try:
        segments.segment_delete(
            actor=request.user, segment=segment, meta=RequestMeta.from_request(request)
        )
        messages.success(request, MSG_DELETED % {"name": segment.name})
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect("customers:segment_list")
