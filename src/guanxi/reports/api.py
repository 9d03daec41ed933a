"""Report endpoints under /api/v1/reports (the fixed ones are in API.md): thin views over
``reports.selectors``, so the API, the pages and the exports give the same numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA, filter_parameters
from guanxi.core.errors import PermissionDenied
from guanxi.customers.filters import CustomerFilter
from guanxi.customers.follow_up_selectors import FollowUpFilter
from guanxi.reports import report_params, selectors
from guanxi.reports.periods import PERIODS
from guanxi.reports.pivot_api import PivotView

REPORT_PERM = selectors.REPORT_PERMISSION
# Query keys the endpoints read themselves; everything else is a list filter.
OWN_KEYS = ("by", "period", "from", "to")

_ITEM = {
    "key": serializers.CharField(),
    "label": serializers.CharField(),
    "count": serializers.IntegerField(),
    "filter": serializers.DictField(
        child=serializers.CharField(),
        help_text="list query parameters that show exactly this bucket's records",
    ),
}
DISTRIBUTION_SCHEMA = inline_serializer(
    "ReportDistribution",
    fields={
        "by": serializers.CharField(),
        "total": serializers.IntegerField(),
        "items": inline_serializer("ReportDistributionItem", fields=_ITEM, many=True),
    },
)
GROWTH_SCHEMA = inline_serializer(
    "ReportGrowth",
    fields={
        "period": serializers.CharField(),
        "new_total": serializers.IntegerField(),
        "lost_total": serializers.IntegerField(),
        "items": inline_serializer(
            "ReportGrowthItem",
            fields={
                "key": serializers.CharField(help_text="2026-11, 2026-W48 or 2026-11-23"),
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "new": serializers.IntegerField(),
                "lost": serializers.IntegerField(),
                "filter": serializers.DictField(child=serializers.CharField()),
            },
            many=True,
        ),
    },
)
ACTIVITY_SCHEMA = inline_serializer(
    "ReportActivity",
    fields={
        "by": serializers.CharField(),
        "total": serializers.IntegerField(),
        "items": inline_serializer("ReportActivityItem", fields=_ITEM, many=True),
    },
)
TRANSITIONS_SCHEMA = inline_serializer(
    "ReportTransitions",
    fields={
        "total": serializers.IntegerField(),
        "items": inline_serializer(
            "ReportTransitionItem",
            fields={
                "from": serializers.CharField(help_text="empty: the status a customer got first"),
                "from_label": serializers.CharField(),
                "to": serializers.CharField(),
                "to_label": serializers.CharField(),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
        "statuses": serializers.ListField(child=serializers.DictField()),
    },
)
DASHBOARD_SCHEMA = inline_serializer(
    "ReportDashboard",
    fields={
        "customers": serializers.IntegerField(),
        "new_week": serializers.IntegerField(),
        "new_month": serializers.IntegerField(),
        "due_today": serializers.IntegerField(),
        "overdue": serializers.IntegerField(),
        "by_status": inline_serializer("ReportDashboardStatus", fields=_ITEM, many=True),
        "kpi_filters": serializers.DictField(
            help_text="per KPI, the customer list query parameters that show its customers"
        ),
    },
)
ERRORS = {422: ERROR_SCHEMA, **COMMON_ERRORS}


def _date_param(name: str, text: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, description=text)


def _range(request: Request, days: int = 30) -> tuple[dt.date, dt.date]:
    """The local-date range of ``from``/``to``, parsed, bounded and defaulted as the report
    pages do (report_params); a bad date is a ReportParamsError, which ``_answer`` makes a
    422 naming the field."""
    params = report_params.parse_params(request.query_params, default_days=days)
    return params.date_from, params.date_to


def _filters(request: Request) -> dict[str, Any]:
    return {k: v for k, v in request.query_params.items() if k not in OWN_KEYS}


def _answer(request: Request, build: Callable[[], dict[str, Any]]) -> Response:
    """403 without the report permission; parameter errors become 422 with field errors."""
    if not request.user.has_perm(REPORT_PERM):
        raise PermissionDenied()
    try:
        return Response(build())
    except selectors.ReportParamsError as exc:
        raise serializers.ValidationError(exc.errors) from exc


class DistributionView(APIView):
    @extend_schema(
        operation_id="reports_customer_distribution",
        summary="Customers per status, category, region, owner ... within the caller's scope",
        parameters=[
            OpenApiParameter(
                "by", str, required=True, enum=list(selectors.DISTRIBUTION_DIMENSIONS)
            ),
            *filter_parameters(CustomerFilter),
        ],
        responses={200: DISTRIBUTION_SCHEMA, **ERRORS},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        by = request.query_params.get("by", "")
        return _answer(
            request,
            lambda: selectors.customer_distribution(
                user=request.user, by=by, params=_filters(request)
            ),
        )


class GrowthView(APIView):
    @extend_schema(
        operation_id="reports_customer_growth",
        summary="New customers and customers lost (changed to 流失) per day, week or month",
        parameters=[
            OpenApiParameter("period", str, enum=list(PERIODS), description="default month"),
            _date_param("from", "first local date (default: 12 months before `to`)"),
            _date_param("to", "last local date (default today)"),
            *filter_parameters(CustomerFilter),
        ],
        responses={200: GROWTH_SCHEMA, **ERRORS},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        period = request.query_params.get("period", "month")

        def build() -> dict[str, Any]:
            date_from, date_to = _range(request, days=365)
            return selectors.customer_growth(
                user=request.user,
                period=period,
                date_from=date_from,
                date_to=date_to,
                params=_filters(request),
            )

        return _answer(request, build)


class ActivityView(APIView):
    @extend_schema(
        operation_id="reports_follow_up_activity",
        summary="Follow-ups made in a period per follow-up owner, department, day or method",
        parameters=[
            OpenApiParameter("by", str, required=True, enum=list(selectors.ACTIVITY_DIMENSIONS)),
            _date_param("from", "first local date (default: 30 days before `to`)"),
            _date_param("to", "last local date (default today)"),
            *filter_parameters(FollowUpFilter),
        ],
        responses={200: ACTIVITY_SCHEMA, **ERRORS},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        by = request.query_params.get("by", "")

        def build() -> dict[str, Any]:
            date_from, date_to = _range(request)
            return selectors.follow_up_activity(
                user=request.user,
                by=by,
                date_from=date_from,
                date_to=date_to,
                params=_filters(request),
            )

        return _answer(request, build)


class TransitionsView(APIView):
    @extend_schema(
        operation_id="reports_status_transitions",
        summary="Customer status changes in a period, per (from, to) pair",
        parameters=[
            _date_param("from", "first local date (default: 30 days before `to`)"),
            _date_param("to", "last local date (default today)"),
            *filter_parameters(CustomerFilter),
        ],
        responses={200: TRANSITIONS_SCHEMA, **ERRORS},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            date_from, date_to = _range(request)
            return selectors.status_transitions(
                user=request.user, date_from=date_from, date_to=date_to, params=_filters(request)
            )

        return _answer(request, build)


class DashboardView(APIView):
    @extend_schema(
        operation_id="reports_dashboard",
        summary="Home dashboard KPIs within the caller's scope",
        responses={200: DASHBOARD_SCHEMA, **COMMON_ERRORS},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        return _answer(request, lambda: selectors.dashboard_summary(user=request.user))


urlpatterns: list[URLPattern] = [
    path("reports/customers/distribution", DistributionView.as_view()),
    path("reports/customers/growth", GrowthView.as_view()),
    path("reports/customers/status-transitions", TransitionsView.as_view()),
    path("reports/follow-ups/activity", ActivityView.as_view()),
    path("reports/dashboard", DashboardView.as_view()),
    path("reports/pivot", PivotView.as_view()),
]
