"""回收站 pages (/customers/recycle/...). Thin: reads through customers.recycle_selectors,
writes through customers.recycle; this module turns requests into calls and results into pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, PermissionDenied, error_text
from guanxi.core.list_pages import page_or_first, render_list
from guanxi.customers import recycle, recycle_selectors, selectors
from guanxi.customers.models import Customer

PAGE_SIZE = 20
TABLE_TARGET = "recycle-table"
MSG_RESTORED = _("客户“%(name)s”已恢复，状态为“未合作”")
MSG_PURGED = _("客户“%(name)s”（%(code)s）已彻底删除")


class PurgeForm(forms.Form):
    """Shape only: the service decides what a valid reason is."""

    reason = forms.CharField(
        label=_("彻底删除原因"),
        max_length=recycle.REASON_MAX_LENGTH,
        error_messages={"required": recycle.MSG_REASON_REQUIRED},
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


def _get(request: HttpRequest, pk: int) -> Customer:
    try:
        return recycle_selectors.recycle_bin_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc
    except PermissionDenied as exc:
        raise HttpForbidden() from exc


@login_required
@require_GET
def recycle_bin(request: HttpRequest) -> HttpResponse:
    """Deleted customers in scope, most recently deleted first; htmx swaps only the table."""
    user, params = request.user, request.GET
    try:
        filterset = recycle_selectors.recycle_bin_filter(user, params)  # the bin's permission
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    page = page_or_first(
        request, recycle_selectors.recycle_bin_list, user=user, params=params, limit=PAGE_SIZE
    )
    now, writable = timezone.now(), selectors.writable_ids(user, page.items)
    rows = [
        {
            "customer": c,
            "purge_after": recycle_selectors.purge_after(c.deleted_at),
            "days_left": recycle_selectors.days_left(c.deleted_at, now),
            "writable": c.pk in writable,
        }
        for c in page.items
    ]
    context = {
        "rows": rows,
        "page": page,
        "form": filterset.form,
        "retention_days": recycle_selectors.retention_days(),
        "can_purge": user.has_perm(recycle.PURGE_PERMISSION),
        "filter_errors": filterset.errors if not filterset.is_valid() else {},
        "table_target": f"#{TABLE_TARGET}",
    }
    return render_list(
        request,
        context,
        target=TABLE_TARGET,
        table_template="customers/_recycle_table.html",
        page_template="customers/recycle_bin.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def recycle_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST brings the customer back as 未合作."""
    require_page_perm(
        request, recycle_selectors.BIN_PERMISSION, recycle.RESTORE_ACTION, target="customer"
    )
    customer = _get(request, pk)
    if request.method == "GET":
        return render(request, "customers/recycle_restore.html", {"customer": customer})
    try:
        recycle.customer_restore(
            actor=request.user, customer=customer, meta=RequestMeta.from_request(request)
        )
    except NotFound as exc:
        raise Http404() from exc
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("customers:recycle_bin")
    messages.success(request, MSG_RESTORED % {"name": customer.name})
    return redirect("customers:recycle_bin")


@login_required
@require_http_methods(["GET", "POST"])
def recycle_purge(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the confirmation with a mandatory reason; POST purges for good."""
    require_page_perm(request, recycle.PURGE_PERMISSION, recycle.PURGE_ACTION, target="customer")
    customer = _get(request, pk)
    form = PurgeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            recycle.customer_purge(
                actor=request.user,
                customer=customer,
                reason=form.cleaned_data["reason"],
                meta=RequestMeta.from_request(request),
            )
        except NotFound as exc:
            raise Http404() from exc
        except ValidationError as exc:
            for messages_ in exc.message_dict.values():
                form.add_error("reason", messages_)
        except DomainError as exc:
            messages.error(request, error_text(exc))
            return redirect("customers:recycle_bin")
        else:
            messages.success(request, MSG_PURGED % {"name": customer.name, "code": customer.code})
            return redirect("customers:recycle_bin")
    context = {
        "customer": customer,
        "form": form,
        "days_left": recycle_selectors.days_left(customer.deleted_at),
    }
    return render(
        request, "customers/recycle_purge.html", context, status=422 if form.is_bound else 200
    )
