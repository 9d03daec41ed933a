"""The 数据透视 page: a GET form, the table with totals, every number a link to its records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from guanxi.audit.page_guard import require_page_perm
from guanxi.core.dictionaries import dictionary_labels
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.follow_ups import METHOD_DICT, RESULT_DICT
from guanxi.customers.forms import CustomerFilterForm, owner_choices, tag_names
from guanxi.customers.services import custom_field_definitions
from guanxi.reports import links
from guanxi.reports.pivot import MEASURES, PIVOT_PARAMS, PivotParamsError, pivot
from guanxi.reports.pivot_dimensions import CUSTOMERS, FOLLOW_UPS, SOURCES, dimensions
from guanxi.reports.pivot_dimensions import numeric_fields as numbers_of

PERM = "reports.view_report"
DEFAULT_ROWS = {CUSTOMERS: "status", FOLLOW_UPS: "owner"}
DEFAULT_COLUMNS = {CUSTOMERS: "category", FOLLOW_UPS: "method"}
# Dictionaries the customer filter form offers (as on the customer list).
FILTER_DICTIONARIES = ("industry", "customer_category")


def _select(label: Any, choices: list[tuple[str, Any]], *, blank: Any = None) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=([("", blank)] if blank else []) + choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class PivotForm(forms.Form):
    """Renders the pivot controls (display only: ``pivot`` validates against its allow-lists)."""

    def __init__(self, data: Mapping[str, Any], *, source: str) -> None:
        super().__init__(data)
        dims = [(name, dim.label) for name, dim in dimensions(source).items()]
        numbers = [(name, field.label) for name, field in numbers_of(source).items()]
        measures = list(MEASURES.items()) if numbers else [("count", MEASURES["count"])]
        self.fields["rows"] = _select(_("行"), dims)
        self.fields["columns"] = _select(_("列"), dims, blank=_("（不分列）"))
        self.fields["measure"] = _select(_("度量"), measures)
        if numbers:
            self.fields["field"] = _select(_("数值字段"), numbers, blank=_("（计数时不需要）"))


class FollowUpFilterForm(forms.Form):
    """The follow-up filters the pivot offers (names as in FollowUpFilter)."""

    def __init__(self, data: Mapping[str, Any], *, user: Any) -> None:
        super().__init__(data)
        date = {"type": "date", "class": "form-control"}
        self.fields["followed_from"] = forms.DateField(
            label=_("跟进日期从"), required=False, widget=forms.DateInput(attrs=date)
        )
        self.fields["followed_to"] = forms.DateField(
            label=_("跟进日期至"), required=False, widget=forms.DateInput(attrs=date)
        )
        everyone = _("全部")
        self.fields["owner_id"] = _select(
            _("跟进人"), [(str(pk), name) for pk, name in owner_choices(user)], blank=everyone
        )
        self.fields["method"] = _select(
            _("跟进方式"), list(dictionary_labels(METHOD_DICT).items()), blank=everyone
        )
        self.fields["result"] = _select(
            _("跟进结果"), list(dictionary_labels(RESULT_DICT).items()), blank=everyone
        )
        self.fields["customer_status"] = _select(
            _("客户状态"), list(CustomerStatus.choices), blank=everyone
        )


def _filter_form(request: HttpRequest, source: str) -> forms.Form:
    if source == FOLLOW_UPS:
        return FollowUpFilterForm(request.GET, user=request.user)
    labels = {code: dictionary_labels(code) for code in FILTER_DICTIONARIES}
    return CustomerFilterForm(
        request.GET,
        labels=labels,
        owners=owner_choices(request.user),
        tags=tag_names(),
        custom_fields=custom_field_definitions(active_only=True),
    )


def drill_down_url(source: str, params: Mapping[str, str]) -> str:
    """The list showing exactly a cell's records ("" while that list does not exist)."""
    try:
        if source == FOLLOW_UPS:
            return links.follow_up_list_url(params)
        return links.customer_list_url(params)
    except NoReverseMatch:
        return ""


def _shade(value: Any, top: Any) -> str:
    """Heat-map background: stronger blue for bigger numbers (the table stays readable)."""
    if not value or not top or value <= 0:
        return ""
    alpha = 0.06 + 0.5 * min(float(value) / float(top), 1.0)
    return f"background-color: rgba(13, 110, 253, {alpha:.2f});"


def decorate(data: dict[str, Any]) -> dict[str, Any]:
    """Links and shading for the template (the JSON answer carries the filters instead)."""
    source, top = data["source"], data["max_value"]
    rows = []
    for key, cells, total in zip(data["row_keys"], data["cells"], data["row_totals"], strict=True):
        rows.append(
            {
                "key": key,
                "url": drill_down_url(source, key["filter"]),
                "total": total,
                "cells": [
                    {
                        **c,
                        "url": drill_down_url(source, c["filter"]),
                        "style": _shade(c["value"], top),
                    }
                    for c in cells
                ],
            }
        )
    columns = [{**c, "url": drill_down_url(source, c["filter"])} for c in data["col_keys"]]
    grand_url = drill_down_url(source, data["params"])
    return {**data, "table_rows": rows, "table_columns": columns, "grand_url": grand_url}


def _export_links(request: HttpRequest) -> dict[str, str]:
    try:
        base = reverse("reports:export", kwargs={"key": "pivot"})
    except NoReverseMatch:
        return {}
    query = request.GET.copy()
    out = {}
    for fmt in ("xlsx", "pdf"):
        query["format"] = fmt
        out[fmt] = f"{base}?{query.urlencode()}"
    return out


@login_required
@require_GET
def pivot_page(request: HttpRequest) -> HttpResponse:
    """Nothing is computed until rows are chosen (the first visit shows a default pivot)."""
    require_page_perm(request, PERM, "report.view")
    source = request.GET.get("source") or CUSTOMERS
    source = source if source in SOURCES else CUSTOMERS
    query = request.GET.copy()
    query.setdefault("rows", DEFAULT_ROWS[source])
    if "rows" not in request.GET:
        query.setdefault("columns", DEFAULT_COLUMNS[source])
    query.setdefault("measure", "count")
    result, errors = None, {}
    try:
        result = pivot(
            user=request.user,
            source=source,
            rows=query.get("rows", ""),
            columns=query.get("columns") or None,
            measure=query.get("measure", "count"),
            field=query.get("field") or None,
            params={k: v for k, v in query.items() if k not in PIVOT_PARAMS},
        )
    except PivotParamsError as exc:
        errors = exc.errors
    context = {
        "source": source,
        "sources": [(key, label) for key, label in SOURCES.items()],
        "form": PivotForm(query, source=source),
        "filter_form": _filter_form(request, source),
        "pivot": decorate(result) if result else None,
        "errors": errors,
        "export_links": _export_links(request) if result else {},
    }
    return render(request, "reports/pivot.html", context)
