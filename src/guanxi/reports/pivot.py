"""数据透视: customers (or follow-ups) split by rows and columns, counted, summed or averaged.

Records are read through the list's own scoped, filtered queryset (``customer_filter`` /
``follow_up_filter``), so a cell counts exactly what the list shows for the same caller and
parameters; each cell carries those parameters (``filter``) for its drill-down link.
Dimensions and numeric fields come from allow-lists (``pivot_dimensions``): input only picks
a name, never reaches the ORM as a field name. Totals are aggregated by the database, not
added up from cells, so averages are true averages and multi-valued dimensions (tags) count
a record once in the totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.follow_up_selectors import follow_up_filter
from guanxi.customers.selectors import customer_filter
from guanxi.reports.pivot_dimensions import (
    CUSTOMERS,
    SOURCES,
    Dimension,
    NumericField,
    blank_label,
    dimensions,
    numeric_fields,
)
from guanxi.reports.report_errors import MSG_BAD_CHOICE, ReportParamsError

ROW_CAP = 200
COLUMN_CAP = 50
MEASURES = {
    "count": gettext_lazy("计数"),
    "sum": gettext_lazy("求和"),
    "avg": gettext_lazy("平均值"),
}
# Query parameters of the pivot itself (the rest are list filters).
PIVOT_PARAMS = ("source", "rows", "columns", "measure", "field")

MSG_FIELD_REQUIRED = gettext_lazy("求和与平均值需要选择一个数值字段")
MSG_NO_NUMBERS = gettext_lazy("跟进记录没有可求和的数值字段，只能计数")
MSG_SAME_DIMENSION = gettext_lazy("行与列不能是同一维度")
MSG_REQUIRED = gettext_lazy("请选择行维度")


class PivotParamsError(ReportParamsError):
    """Pivot parameters that cannot be answered (the API answers 422, the page shows them)."""


def _bad(value: Any) -> str:
    return str(MSG_BAD_CHOICE % {"value": str(value)[:40]})


def _validate(
    source: str, rows: str, columns: str | None, measure: str, field: str | None
) -> tuple[Dimension, Dimension | None, NumericField | None]:
    if source not in SOURCES:
        raise PivotParamsError({"source": [_bad(source)]})
    allowed, numbers = dimensions(source), numeric_fields(source)
    errors: dict[str, list[str]] = {}
    if not rows:
        errors["rows"] = [str(MSG_REQUIRED)]
    elif rows not in allowed:
        errors["rows"] = [_bad(rows)]
    if columns and columns not in allowed:
        errors["columns"] = [_bad(columns)]
    elif columns and columns == rows:
        errors["columns"] = [str(MSG_SAME_DIMENSION)]
    if measure not in MEASURES:
        errors["measure"] = [_bad(measure)]
    elif measure != "count" and not numbers:
        errors["measure"] = [str(MSG_NO_NUMBERS)]
    elif measure != "count" and not field:
        errors["field"] = [str(MSG_FIELD_REQUIRED)]
    elif measure != "count" and field not in numbers:
        errors["field"] = [_bad(field)]
    if errors:
        raise PivotParamsError(errors)
    number = numbers[field] if measure != "count" and field else None
    return allowed[rows], (allowed[columns] if columns else None), number


def _records(user: Any, source: str, params: Mapping[str, Any]) -> tuple[QuerySet, dict]:
    """The scoped, filtered records and the filter parameters that selected them."""
    bound = customer_filter(user, params) if source == CUSTOMERS else follow_up_filter(user, params)
    if not bound.is_valid():
        raise PivotParamsError({k: [str(m) for m in v] for k, v in bound.errors.items()})
    chosen = {
        name: str(params.get(name)) for name in bound.filters if params.get(name) not in (None, "")
    }
    qs = bound.qs.order_by()
    return (qs.prefetch_related(None) if source == CUSTOMERS else qs), chosen


class _Tally:
    """Record count, sum and count of non-empty values of one bucket."""

    __slots__ = ("count", "present", "total")

    def __init__(self) -> None:
        self.count, self.total, self.present = 0, Decimal(0), 0

    def add(self, row: Mapping[str, Any]) -> None:
        self.count += row["pv_n"]
        self.total += Decimal(str(row.get("pv_sum") or 0))
        self.present += row.get("pv_present") or 0

    def merge(self, other: _Tally) -> None:
        self.count += other.count
        self.total += other.total
        self.present += other.present


def _value(tally: _Tally | None, measure: str, number: NumericField | None) -> Any:
    if measure == "count":
        return tally.count if tally else 0
    places = number.places if number else 2
    if measure == "sum":
        total = round(tally.total, places) if tally else Decimal(0)
        return int(total) if places == 0 else float(total)
    if not tally or not tally.present:
        return None
    return float(round(tally.total / tally.present, 2))


def _grouped(
    qs: QuerySet, dims: list[Dimension], number: NumericField | None
) -> dict[tuple[str, ...], _Tally]:
    """One GROUP BY over the dimensions' paths; buckets keyed by the dimensions' keys."""
    names: dict[str, Any] = {}
    for i, dim in enumerate(dims):
        for j, path in enumerate(dim.paths):
            names[f"pv_{i}_{j}"] = path
    aggregates: dict[str, Any] = {"pv_n": Count("pk")}
    if number is not None:
        aggregates.update(pv_sum=Sum(number.expression), pv_present=Count(number.expression))
    rows = qs.values(**names).annotate(**aggregates) if names else [qs.aggregate(**aggregates)]
    out: dict[tuple[str, ...], _Tally] = {}
    for row in rows:
        key = tuple(
            dim.to_key(tuple(row[f"pv_{i}_{j}"] for j in range(len(dim.paths))))
            for i, dim in enumerate(dims)
        )
        out.setdefault(key, _Tally()).add(row)
    return out


def _ordered(dim: Dimension, totals: dict[str, _Tally], labels: dict[str, str]) -> list[str]:
    """Time in order; otherwise the biggest buckets first; 未填写 last."""
    keys = list(totals)
    if dim.chronological:
        keys.sort()
    else:
        keys.sort(key=lambda k: (-totals[k].count, labels.get(k, k)))
    return [k for k in keys if k] + [k for k in keys if not k]


def _keys(
    dim: Dimension, totals: dict[str, _Tally], cap: int, chosen: dict, measure: str, number: Any
) -> tuple[list[dict[str, Any]], int]:
    labels = dim.labels(list(totals))
    ordered = _ordered(dim, totals, labels)
    return [
        {
            "key": key,
            "label": (labels.get(key) or key) if key else blank_label(),
            "filter": _merged(chosen, dim.to_filter(key, chosen)),
            "total": {"value": _value(totals[key], measure, number), "count": totals[key].count},
        }
        for key in ordered[:cap]
    ], len(ordered)


def _merged(first: dict[str, str], second: dict[str, str]) -> dict[str, str]:
    """Both filters at once: two date ranges (month rows, quarter columns) intersect."""
    out = dict(first)
    for name, value in second.items():
        if name in out and name.endswith("_from"):
            value = max(out[name], value)
        elif name in out and name.endswith("_to"):
            value = min(out[name], value)
        out[name] = value
    return out


def _totals(
    qs: QuerySet,
    dims: list[Dimension],
    tallies: dict[tuple[str, ...], _Tally],
    number: NumericField | None,
) -> tuple[dict[str, _Tally], dict[str, _Tally], _Tally]:
    """Row, column and grand totals. Counts and sums add up, so they come from the cells'
    own GROUP BY (one scan, not four); a multi-valued dimension (tags) would count a record
    once per bucket, so then each total is its own aggregate."""
    if any(d.multi_valued for d in dims):
        rows = {k[0]: t for k, t in _grouped(qs, dims[:1], number).items()}
        columns = {k[0]: t for k, t in _grouped(qs, dims[1:], number).items()} if dims[1:] else {}
        return rows, columns, _grouped(qs, [], number).get((), _Tally())
    rows, columns, grand = {}, {}, _Tally()
    for key, tally in tallies.items():
        for bucket, at in ((rows, 0), (columns, 1)):
            if at < len(key):
                bucket.setdefault(key[at], _Tally()).merge(tally)
        grand.merge(tally)
    return rows, columns, grand


def _describe(dim: Dimension | None) -> dict[str, str] | None:
    return {"name": dim.name, "label": str(dim.label)} if dim else None


def pivot(
    *,
    user: Any,
    source: str,
    rows: str,
    columns: str | None,
    measure: str,
    field: str | None,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The pivot table as data: keys, cells, totals, drill-down filters and notes."""
    row_dim, col_dim, number = _validate(source, rows, columns, measure, field)
    qs, chosen = _records(user, source, params)
    dims = [row_dim] if col_dim is None else [row_dim, col_dim]
    tallies = _grouped(qs, dims, number)
    row_totals, col_totals, grand = _totals(qs, dims, tallies, number)
    row_keys, row_count = _keys(row_dim, row_totals, ROW_CAP, chosen, measure, number)
    col_keys: list[dict[str, Any]] = []
    col_count = 0
    cells: list[list[dict[str, Any]]] = [[] for _k in row_keys]
    if col_dim is not None:
        col_keys, col_count = _keys(col_dim, col_totals, COLUMN_CAP, chosen, measure, number)
        cells = [
            [
                {
                    "value": _value(tallies.get((r["key"], c["key"])), measure, number),
                    "count": (t.count if (t := tallies.get((r["key"], c["key"]))) else 0),
                    "filter": _merged(r["filter"], col_dim.to_filter(c["key"], chosen)),
                }
                for c in col_keys
            ]
            for r in row_keys
        ]
    values = [c["value"] for row in cells for c in row if c["value"] is not None]
    values = values or [r["total"]["value"] for r in row_keys if r["total"]["value"] is not None]
    return {
        "source": source,
        "rows": _describe(row_dim),
        "columns": _describe(col_dim),
        "measure": measure,
        "measure_label": str(MEASURES[measure]),
        "field": {"name": number.name, "label": str(number.label)} if number else None,
        "params": chosen,
        "row_keys": row_keys,
        "col_keys": col_keys,
        "cells": cells,
        "row_totals": [r["total"] for r in row_keys],
        "col_totals": [c["total"] for c in col_keys],
        "grand_total": {"value": _value(grand, measure, number), "count": grand.count},
        "max_value": max(values, default=0),
        "truncated": {
            "rows": row_count if row_count > ROW_CAP else None,
            "columns": col_count if col_count > COLUMN_CAP else None,
        },
        "notes": _notes(row_dim, col_dim, row_count, col_count),
    }


def _notes(
    row_dim: Dimension, col_dim: Dimension | None, row_count: int, col_count: int
) -> list[str]:
    notes = []
    if row_count > ROW_CAP:
        notes.append(
            _("行数过多：仅显示前 %(cap)s 行（共 %(n)s 行），合计包含全部数据。")
            % {"cap": ROW_CAP, "n": row_count}
        )
    if col_count > COLUMN_CAP:
        notes.append(
            _("列数过多：仅显示前 %(cap)s 列（共 %(n)s 列），合计包含全部数据。")
            % {"cap": COLUMN_CAP, "n": col_count}
        )
    if row_dim.multi_valued or (col_dim and col_dim.multi_valued):
        notes.append(
            _(
                "一个客户有多个标签时会出现在每个标签的行（列）中；合计按客户计一次，"
                "因此各标签之和可能大于合计。"
            )
        )
    return notes
