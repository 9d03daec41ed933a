"""The pivot as a ReportResult, so the XLSX/PDF export and scheduled e-mails handle it like
every other report (``definitions.REPORTS["pivot"]``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from guanxi.reports.filter_labels import describe
from guanxi.reports.pivot import PIVOT_PARAMS, pivot
from guanxi.reports.pivot_dimensions import CUSTOMERS, FOLLOW_UPS, SOURCES
from guanxi.reports.pivot_views import DEFAULT_ROWS, drill_down_url
from guanxi.reports.results import Chart, ChartSeries, ReportResult, Table

CHART_BARS = 30


def _flat(params: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in params or {}:
        value = params.get(key) if hasattr(params, "getlist") else params[key]
        if value not in (None, ""):
            out[str(key)] = str(value)
    return out


def build_pivot(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """One table (rows × columns with totals) and a bar chart of the row totals; each row
    links to its records. Bad parameters raise PivotParamsError (a ReportParamsError)."""
    flat = _flat(params)
    source = flat.get("source", CUSTOMERS)
    data = pivot(
        user=user,
        source=source,
        rows=flat.get("rows", DEFAULT_ROWS.get(source, "")),
        columns=flat.get("columns") or None,
        measure=flat.get("measure", "count"),
        field=flat.get("field") or None,
        params={k: v for k, v in flat.items() if k not in PIVOT_PARAMS},
    )
    head = data["rows"]["label"]
    measure = data["measure_label"] + (f"（{data['field']['label']}）" if data["field"] else "")
    columns = [c["label"] for c in data["col_keys"]]
    rows = [
        [r["label"], *[c["value"] for c in cells], total["value"]]
        for r, cells, total in zip(data["row_keys"], data["cells"], data["row_totals"], strict=True)
    ]
    links = [drill_down_url(source, r["filter"]) for r in data["row_keys"]]
    shown = data["row_keys"][:CHART_BARS]
    title = f"{head}" + (f" × {data['columns']['label']}" if data["columns"] else "")
    controls = [
        (_("数据来源"), str(SOURCES[source])),
        (_("行"), head),
        (_("列"), data["columns"]["label"] if data["columns"] else _("（不分列）")),
        (_("度量"), measure),
    ]
    return ReportResult(
        key="pivot",
        title=_("数据透视"),
        filters=[*controls, *describe(data["params"], follow_ups=source == FOLLOW_UPS)],
        charts=[
            Chart(
                kind="bar",
                title=_("%(dim)s合计") % {"dim": head},
                categories=[r["label"] for r in shown],
                series=[ChartSeries(measure, [r["total"]["value"] or 0 for r in shown])],
                links=links[: len(shown)],
            )
        ],
        tables=[
            Table(
                title=f"{title} · {measure}",
                columns=[head, *columns, _("合计")],
                rows=rows,
                links=links,
                totals=[
                    _("合计"),
                    *[c["value"] for c in data["col_totals"]],
                    data["grand_total"]["value"],
                ],
            )
        ],
    )
