"""跟进记录: the follow-ups behind a number of the activity report (scoped, filtered, paged)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanxi.audit.page_guard import require_page_perm
from guanxi.core.list_pages import page_or_first
from guanxi.customers import follow_up_selectors
from guanxi.reports.filter_labels import describe
from guanxi.reports.report_params import FOLLOW_UP_KEYS

PAGE_SIZE = 50
FILTER_KEYS = (*FOLLOW_UP_KEYS, "followed_from", "followed_to")


@login_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """Newest first; the count is the activity report's count for the same filters."""
    require_page_perm(request, "customers.view_followup", "follow_up.view")
    user, params = request.user, request.GET
    filterset = follow_up_selectors.follow_up_filter(user, params)
    valid = filterset.is_valid()
    page = page_or_first(
        request, follow_up_selectors.follow_up_list, user=user, params=params, limit=PAGE_SIZE
    )
    filters = {k: v for k, v in params.items() if k in FILTER_KEYS and v.strip()}
    context = {
        "page": page,
        "count": filterset.qs.count() if valid else 0,
        "errors": {} if valid else filterset.errors,
        "filters": describe(filters, follow_ups=True),
        "labels": follow_up_selectors.follow_up_labels(),
        "query": {k: v for k, v in params.items() if k != "cursor"},
    }
    return render(request, "reports/follow_ups.html", context, status=200 if valid else 422)
