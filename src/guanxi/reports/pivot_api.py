"""GET /api/v1/reports/pivot: the pivot table as JSON (the page's data, with drill-down
filters per cell instead of links)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanxi.core.api_schema import COMMON_ERRORS, ERROR_SCHEMA, filter_parameters
from guanxi.customers.filters import CustomerFilter
from guanxi.reports.pivot import MEASURES, PIVOT_PARAMS, PivotParamsError, pivot
from guanxi.reports.pivot_dimensions import CUSTOMERS, SOURCES, customer_dimensions
from guanxi.reports.pivot_views import PERM

PIVOT_QUERY = [
    OpenApiParameter("source", OpenApiTypes.STR, enum=list(SOURCES), description="customers"),
    OpenApiParameter(
        "rows",
        OpenApiTypes.STR,
        required=True,
        description="dimension, e.g. "
        + ", ".join(customer_dimensions())
        + "; follow_ups: owner, department, method, result, followed_month, followed_quarter, "
        "customer_status, customer_category, customer_industry",
    ),
    OpenApiParameter("columns", OpenApiTypes.STR, description="dimension (optional)"),
    OpenApiParameter("measure", OpenApiTypes.STR, enum=list(MEASURES), description="count"),
    OpenApiParameter(
        "field", OpenApiTypes.STR, description="sum/avg: completeness or cf_<number/money key>"
    ),
]


class PivotView(APIView):
    @extend_schema(
        operation_id="reports_pivot",
        summary="数据透视",
        description=(
            "Rows × columns of the caller's customers (or follow-ups) with totals; list filters "
            "narrow the records. Each cell's `filter` opens exactly its records in the list."
        ),
        parameters=[*PIVOT_QUERY, *filter_parameters(CustomerFilter)],
        responses={200: OpenApiTypes.OBJECT, 422: ERROR_SCHEMA, **COMMON_ERRORS},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm(PERM):
            raise exceptions.PermissionDenied()
        query = request.query_params
        try:
            data = pivot(
                user=request.user,
                source=query.get("source") or CUSTOMERS,
                rows=query.get("rows", ""),
                columns=query.get("columns") or None,
                measure=query.get("measure") or "count",
                field=query.get("field") or None,
                params={k: v for k, v in query.items() if k not in PIVOT_PARAMS},
            )
        except PivotParamsError as exc:
            raise serializers.ValidationError(exc.errors) from exc
        return Response(data)
