"""The dashboard (home page) and the standard report pages: thin views over build_report."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from guanxi.audit.page_guard import require_page_perm
from guanxi.reports.asset_finder import chart_assets
from guanxi.reports.chart_payload import chart_payload
from guanxi.reports.definitions import DEFAULT_PERIOD, REPORTS, build_report, effective_range
from guanxi.reports.forms import ReportFilterForm, quick_ranges
from guanxi.reports.report_errors import ReportParamsError
from guanxi.reports.results import ReportResult

REPORT_PERM = "reports.view_report"
EXPORT_FORMATS = ("xlsx", "pdf")


def export_links(key: str, query: dict[str, str]) -> list[tuple[str, str]]:
    """(format, URL) of the report's files with the page's own query."""
    try:
        base = reverse("reports:export", kwargs={"key": key})
    except NoReverseMatch:
        base = f"/reports/export/{key}/"
    return [(fmt, f"{base}?{urlencode({'format': fmt, **query})}") for fmt in EXPORT_FORMATS]


def table_context(result: ReportResult) -> list[dict[str, Any]]:
    """Tables with one link per row; the province table of the region report also gets the
    drill-down to that province's cities (its map's links, in the same order)."""
    drill = result.charts[0].links if result.charts and result.charts[0].kind == "map" else []
    out = []
    for index, table in enumerate(result.tables):
        row_drill = drill if index == 0 and result.key == "region" else []
        numeric = [_is_numeric(table.rows, i) for i in range(len(table.columns))]
        out.append(
            {
                "title": table.title,
                "columns": list(zip(table.columns, numeric, strict=True)),
                "totals": list(zip(table.totals, numeric, strict=False)) if table.totals else [],
                "drill": bool(row_drill),
                "rows": [
                    {
                        "cells": list(zip(row, numeric, strict=False)),
                        "link": table.links[i] if i < len(table.links) else "",
                        "drill": row_drill[i] if i < len(row_drill) else "",
                    }
                    for i, row in enumerate(table.rows)
                ],
            }
        )
    return out


def _is_numeric(rows: list[list[Any]], column: int) -> bool:
    """Numbers and shares align right; words align left."""
    cells = [row[column] for row in rows if column < len(row)]
    return bool(cells) and all(
        isinstance(c, int | float) or (isinstance(c, str) and c.endswith("%")) for c in cells
    )


def _query(request: HttpRequest) -> dict[str, str]:
    return {k: v for k, v in request.GET.items() if v.strip() and k not in ("format", "cursor")}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page: the dashboard for those who may read reports, a welcome for others."""
    if not request.user.has_perm(REPORT_PERM):
        return render(request, "reports/welcome.html")
    result = build_report(user=request.user, key="dashboard", params={})
    kpis = result.tables[0]
    context = {
        "result": result,
        "kpis": [
            {"label": row[0], "value": row[1], "link": link}
            for row, link in zip(kpis.rows, kpis.links, strict=True)
        ],
        "charts": chart_payload(result.charts),
        "exports": export_links("dashboard", {}),
        "assets": chart_assets(),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
def report_page(request: HttpRequest, key: str) -> HttpResponse:
    """One standard report: controls, chart, the table behind it, export buttons."""
    require_page_perm(request, REPORT_PERM, "report.view")
    definition = REPORTS[key]
    data = request.GET.copy()
    span = effective_range(key, request.GET)
    if span and not (data.get("from") or data.get("to")):
        data["from"], data["to"] = span[0].isoformat(), span[1].isoformat()
    if definition.uses_period and not data.get("period"):
        data["period"] = DEFAULT_PERIOD
    form = ReportFilterForm(data, definition=definition, user=request.user)
    query = _query(request)
    try:
        result, errors = build_report(user=request.user, key=key, params=request.GET), {}
    except ReportParamsError as exc:
        result, errors = None, exc.errors
    context: dict[str, Any] = {
        "definition": definition,
        "result": result,
        "errors": errors,
        "form": form,
        "quick_ranges": quick_ranges(),
        "query": query,
        "charts": chart_payload(result.charts) if result else [],
        "tables": table_context(result) if result else [],
        "exports": export_links(key, query),
        "assets": chart_assets(),
        "province": request.GET.get("province", "") if key == "region" else "",
    }
    return render(request, "reports/report.html", context, status=422 if errors else 200)
