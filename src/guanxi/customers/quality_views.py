"""数据质量 pages: the overview (completeness, missing fields, duplicates, unverified) and the
sampled customers of each check, marked verified or corrected. Thin over customers.quality."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.customers import quality
from guanxi.customers.models import QualityCheck, QualityItem, QualityStatus

MSG_MARKED = _("已标记：%(code)s %(status)s")
PAGE_SIZE = 50


def _guard(request: HttpRequest) -> None:
    if not request.user.has_perm(quality.VERIFY_PERM):
        raise HttpForbidden()


@login_required
@require_GET
def quality_overview(request: HttpRequest) -> HttpResponse:
    _guard(request)
    checks = list(QualityCheck.objects.order_by("-created_at", "-id")[:24])
    counts = quality.check_counts([c.pk for c in checks])
    context = {
        "overview": quality.cached_overview(
            request.user, refresh=request.GET.get("refresh") == "1"
        ),
        "checks": [(c, counts.get(c.pk, {})) for c in checks],
        "sample_rate": quality.sample_rate(),
    }
    return render(request, "customers/quality.html", context)


@login_required
@require_GET
def quality_check(request: HttpRequest, pk: int) -> HttpResponse:
    """One check's sampled customers, pending first by default (``?status=`` to switch)."""
    _guard(request)
    check = get_object_or_404(QualityCheck, pk=pk)
    status = request.GET.get("status", QualityStatus.PENDING)
    items = check.items.select_related("customer", "customer__owner", "checked_by").order_by("id")
    if status in QualityStatus.values:
        items = items.filter(status=status)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "check": check,
        "page": page,
        "status": status,
        "statuses": QualityStatus.choices,
        "counts": quality.check_counts([check.pk]).get(check.pk, {}),
    }
    return render(request, "customers/quality_check.html", context)


@login_required
@require_POST
def quality_mark(request: HttpRequest, pk: int) -> HttpResponse:
    _guard(request)
    item = get_object_or_404(QualityItem.objects.select_related("customer"), pk=pk)
    try:
        marked = quality.mark_item(
            actor=request.user,
            item=item,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
            meta=RequestMeta.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            MSG_MARKED % {"code": item.customer.code, "status": marked.get_status_display()},
        )
    back = reverse("customers:quality_check", args=[item.check_round_id])
    return redirect(f"{back}?{request.POST.get('return_query', '')}")
