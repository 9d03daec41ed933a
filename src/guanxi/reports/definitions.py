"""The standard reports as data: each key builds one ReportResult from the scoped selectors.

Pages, XLSX/PDF exports and scheduled e-mails all call ``build_report``, so what a manager
sees on screen is what the file holds. Every bar, slice and row carries the URL of the list
that shows exactly its records (the report's filters with the bucket's filter over them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from guanxi.reports import selectors
from guanxi.reports.filter_labels import describe
from guanxi.reports.links import customer_list_url, follow_up_list_url, report_url
from guanxi.reports.pivot_report import build_pivot
from guanxi.reports.report_errors import MSG_BAD_CHOICE, ReportParamsError
from guanxi.reports.report_params import FOLLOW_UP_KEYS, ReportParams, parse_params
from guanxi.reports.results import Chart, ChartSeries, ReportResult, Table
from guanxi.reports.usage_report import build_usage

DIMENSION_LABELS: dict[str, Promise] = {
    "status": _("客户状态"),
    "category": _("客户分类"),
    "industry": _("所属行业"),
    "source": _("客户来源"),
    "customer_type": _("客户类型"),
    "province": _("省份"),
    "city": _("城市"),
    "owner": _("负责人"),
    "department": _("部门"),
}
ACTIVITY_LABELS: dict[str, Promise] = {
    "owner": _("跟进人"),
    "department": _("团队（部门）"),
    "day": _("日期"),
    "method": _("跟进方式"),
}
PERIOD_LABELS: dict[str, Promise] = {"day": _("按日"), "week": _("按周"), "month": _("按月")}
DEFAULT_PERIOD = "month"
# A bar chart stays readable up to this many bars; the table below always has every row.
CHART_BARS = 30


@dataclass(frozen=True)
class ReportDefinition:
    """One standard report: its key, title, which controls its page shows, and its builder."""

    key: str
    title: Promise
    build: Callable[[Any, Mapping[str, Any]], ReportResult]
    dimensions: Mapping[str, Promise] | None = None  # the "by" choices, if any
    uses_range: bool = True
    uses_period: bool = False
    filter_source: str = "customers"  # whose list filters apply: customers | follow_ups | none


def _share(count: int, total: int) -> str:
    return f"{count * 100 / total:.1f}%" if total else "0.0%"


def _choice(name: str, value: str, allowed: Mapping[str, Any]) -> None:
    if value not in allowed:
        raise ReportParamsError({name: [str(MSG_BAD_CHOICE % {"value": value})]})


def _range_label(p: ReportParams) -> tuple[str, str]:
    return (_g("时间范围"), f"{p.date_from:%Y-%m-%d} ~ {p.date_to:%Y-%m-%d}")


def _bar(title: str, items: list[dict[str, Any]], links: list[str], name: str) -> Chart:
    shown = items[:CHART_BARS]
    return Chart(
        kind="bar",
        title=title if len(items) <= CHART_BARS else f"{title}（{_g('前')} {CHART_BARS}）",
        categories=[i["label"] for i in shown],
        series=[ChartSeries(name=name, values=[i["count"] for i in shown])],
        links=links[: len(shown)],
    )


def _count_table(title: str, head: str, data: dict[str, Any], links: list[str]) -> Table:
    total = data["total"]
    return Table(
        title=title,
        columns=[head, _g("数量"), _g("占比")],
        rows=[[i["label"], i["count"], _share(i["count"], total)] for i in data["items"]],
        links=links,
        totals=[_g("合计"), total, "100.0%" if total else "0.0%"],
    )


# -- distribution -----------------------------------------------------------------------------


def build_distribution(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """How the customers split over one dimension (status, category, ... department)."""
    p = parse_params(params, default_by="status")
    _choice("by", p.by, DIMENSION_LABELS)
    data = selectors.customer_distribution(user=user, by=p.by, params=p.filters)
    links = [customer_list_url(p.filters, i["filter"]) for i in data["items"]]
    head = str(DIMENSION_LABELS[p.by])
    title = _g("客户分布：%(dim)s") % {"dim": head}
    return ReportResult(
        key="distribution",
        title=str(REPORTS["distribution"].title),
        filters=[(_g("统计维度"), head), *describe(p.filters)],
        charts=[_bar(title, data["items"], links, _g("客户数"))],
        tables=[_count_table(title, head, data, links)],
    )


# -- cooperation status -------------------------------------------------------------------------


def build_status(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """Transitions between cooperation statuses in the period, and where customers stand now."""
    p = parse_params(params)
    data = selectors.status_transitions(
        user=user, date_from=p.date_from, date_to=p.date_to, params=p.filters
    )
    for item in data["items"]:
        if not item["from"]:  # the status a customer was created with
            item["from_label"] = _g("（新建）")
    now = selectors.customer_distribution(user=user, by="status", params=p.filters)
    now_links = [customer_list_url(p.filters, i["filter"]) for i in now["items"]]
    pairs = [f"{i['from_label']} → {i['to_label']}" for i in data["items"]]
    counts = [i["count"] for i in data["items"]]
    return ReportResult(
        key="status",
        title=str(REPORTS["status"].title),
        filters=[_range_label(p), *describe(p.filters)],
        charts=[
            Chart("bar", _g("状态变化次数"), pairs, [ChartSeries(_g("变化次数"), counts)]),
            _bar(_g("当前状态分布"), now["items"], now_links, _g("客户数")),
        ],
        tables=[
            Table(
                title=_g("状态变化"),
                columns=[_g("原状态"), _g("新状态"), _g("次数"), _g("占比")],
                rows=[
                    [i["from_label"], i["to_label"], i["count"], _share(i["count"], data["total"])]
                    for i in data["items"]
                ],
                totals=[_g("合计"), "", data["total"], "100.0%" if data["total"] else "0.0%"],
            ),
            _count_table(_g("当前状态分布"), _g("客户状态"), now, now_links),
        ],
    )


# -- regions ------------------------------------------------------------------------------------


def build_region(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """Customers per province on the map; with a province chosen, per city of it."""
    p = parse_params(params)
    province = p.filters.get("province", "")
    by = "city" if province else "province"
    data = selectors.customer_distribution(user=user, by=by, params=p.filters)
    links = [customer_list_url(p.filters, i["filter"]) for i in data["items"]]
    head = str(DIMENSION_LABELS[by])
    if province:
        labels = [i["key"].partition("/")[2] or i["label"] for i in data["items"]]
        items = [{**i, "label": label} for i, label in zip(data["items"], labels, strict=True)]
        chart = _bar(_g("%(p)s 各城市客户数") % {"p": province}, items, links, _g("客户数"))
        table = _count_table(chart.title, head, {**data, "items": items}, links)
    else:
        drill = [report_url("region", p.filters, i["filter"]) for i in data["items"]]
        chart = _map(data, drill)
        table = _count_table(_g("各省份客户数"), head, data, links)
    return ReportResult(
        key="region",
        title=str(REPORTS["region"].title),
        filters=describe(p.filters),
        charts=[chart],
        tables=[table],
    )


def _map(data: dict[str, Any], links: list[str]) -> Chart:
    """Provinces as map regions (stored names; the page maps them to the map's names)."""
    return Chart(
        kind="map",
        title=_g("各省份客户数"),
        categories=[i["key"] for i in data["items"]],
        series=[ChartSeries(_g("客户数"), [i["count"] for i in data["items"]])],
        links=links,
    )


# -- growth and churn ---------------------------------------------------------------------------


def _growth_params(params: Mapping[str, Any]) -> ReportParams:
    p = parse_params(params, default_period=DEFAULT_PERIOD)
    _choice("period", p.period, PERIOD_LABELS)
    if (params or {}).get("from"):
        return p
    start = {
        "day": p.date_to - dt.timedelta(days=29),
        "week": p.date_to - dt.timedelta(weeks=11, days=p.date_to.weekday()),
        "month": _months_back(p.date_to, 11),
    }[p.period]
    return ReportParams(start, p.date_to, p.period, p.by, p.filters)


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def build_growth(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """New customers and customers lost (to 流失) per day, week or month."""
    p = _growth_params(params)
    data = selectors.customer_growth(
        user=user, period=p.period, date_from=p.date_from, date_to=p.date_to, params=p.filters
    )
    items = data["items"]
    links = [customer_list_url(p.filters, i["filter"]) for i in items]
    keys = [i["key"] for i in items]
    new, lost = [i["new"] for i in items], [i["lost"] for i in items]
    return ReportResult(
        key="growth",
        title=str(REPORTS["growth"].title),
        filters=[_range_label(p), (_g("周期"), str(PERIOD_LABELS[p.period])), *describe(p.filters)],
        charts=[
            Chart(
                "line",
                _g("新增与流失客户"),
                keys,
                [ChartSeries(_g("新增客户"), new), ChartSeries(_g("流失客户"), lost)],
                links,
            )
        ],
        tables=[
            Table(
                title=_g("新增与流失客户"),
                columns=[_g("周期"), _g("新增客户"), _g("流失客户"), _g("净增")],
                rows=[[i["key"], i["new"], i["lost"], i["new"] - i["lost"]] for i in items],
                links=links,
                totals=[
                    _g("合计"),
                    data["new_total"],
                    data["lost_total"],
                    data["new_total"] - data["lost_total"],
                ],
            )
        ],
    )


# -- follow-up activity -------------------------------------------------------------------------


def build_activity(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """Follow-ups made in the period per person, team, day or method."""
    p = parse_params(params, default_by="owner", filter_keys=FOLLOW_UP_KEYS)
    _choice("by", p.by, ACTIVITY_LABELS)
    data = selectors.follow_up_activity(
        user=user, by=p.by, date_from=p.date_from, date_to=p.date_to, params=p.filters
    )
    links = [follow_up_list_url(p.filters, i["filter"]) for i in data["items"]]
    head = str(ACTIVITY_LABELS[p.by])
    title = _g("跟进次数：按%(dim)s") % {"dim": head}
    if p.by == "day":
        chart = Chart(
            "line",
            title,
            [i["label"] for i in data["items"]],
            [ChartSeries(_g("跟进次数"), [i["count"] for i in data["items"]])],
            links,
        )
    else:
        chart = _bar(title, data["items"], links, _g("跟进次数"))
    return ReportResult(
        key="activity",
        title=str(REPORTS["activity"].title),
        filters=[_range_label(p), (_g("统计维度"), head), *describe(p.filters, follow_ups=True)],
        charts=[chart],
        tables=[_count_table(title, head, data, links)],
    )


# -- dashboard ----------------------------------------------------------------------------------

KPI_LABELS: dict[str, Promise] = {
    "customers": _("客户总数"),
    "new_week": _("本周新增"),
    "new_month": _("本月新增"),
    "due_today": _("今日待跟进"),
    "overdue": _("逾期未跟进"),
}


def build_dashboard(user: Any, params: Mapping[str, Any] | None = None) -> ReportResult:
    """The home page: KPIs (first table, in KPI_LABELS order) and six charts."""
    summary = selectors.dashboard_summary(user=user)
    today = timezone.localdate()
    month_ago = today - dt.timedelta(days=29)
    kpi_links = [customer_list_url({}, summary["kpi_filters"][k]) for k in KPI_LABELS]
    charts, tables = [], []
    status = {"total": summary["customers"], "items": summary["by_status"]}
    for by, data in (
        ("status", status),
        ("category", selectors.customer_distribution(user=user, by="category")),
        ("industry", selectors.customer_distribution(user=user, by="industry")),
    ):
        links = [customer_list_url({}, i["filter"]) for i in data["items"]]
        title = _g("按%(dim)s") % {"dim": DIMENSION_LABELS[by]}
        charts.append(_bar(title, data["items"], links, _g("客户数")))
        tables.append(_count_table(title, str(DIMENSION_LABELS[by]), data, links))
    growth = build_growth(user, {"period": "month"})
    activity = build_activity(
        user, {"by": "day", "from": month_ago.isoformat(), "to": today.isoformat()}
    )
    activity.charts[0].title = activity.tables[0].title = _g("近30天跟进活动")
    for built in (growth, activity):
        charts.append(built.charts[0])
        tables.append(built.tables[0])
    provinces = selectors.customer_distribution(user=user, by="province")
    links = [customer_list_url({}, i["filter"]) for i in provinces["items"]]
    charts.append(_map(provinces, links))
    tables.append(_count_table(_g("各省份客户数"), _g("省份"), provinces, links))
    kpis = Table(
        title=_g("关键指标"),
        columns=[_g("指标"), _g("数值")],
        rows=[[str(label), summary[k]] for k, label in KPI_LABELS.items()],
        links=kpi_links,
    )
    return ReportResult(
        key="dashboard",
        title=str(REPORTS["dashboard"].title),
        filters=[(_g("日期"), f"{today:%Y-%m-%d}")],
        charts=charts,
        tables=[kpis, *tables],
    )


REPORTS: dict[str, ReportDefinition] = {
    d.key: d
    for d in (
        ReportDefinition("dashboard", _("首页看板"), build_dashboard, uses_range=False),
        ReportDefinition(
            "distribution", _("客户分布"), build_distribution, DIMENSION_LABELS, uses_range=False
        ),
        ReportDefinition("status", _("合作状态分析"), build_status),
        ReportDefinition("region", _("区域分布"), build_region, uses_range=False),
        ReportDefinition("growth", _("客户增长与流失"), build_growth, uses_period=True),
        ReportDefinition(
            "activity", _("跟进活动"), build_activity, ACTIVITY_LABELS, filter_source="follow_ups"
        ),
        ReportDefinition("pivot", _("数据透视"), build_pivot, uses_range=False),
        ReportDefinition("usage", _("使用情况分析"), build_usage, filter_source="none"),
    )
}


def effective_range(key: str, params: Mapping[str, Any] | None) -> tuple[dt.date, dt.date] | None:
    """The date range report ``key`` covers for ``params`` (defaults filled in), or None when
    it has none or the dates are malformed (pages prefill their date inputs with it)."""
    definition = REPORTS.get(key)
    if definition is None or not definition.uses_range:
        return None
    try:
        p = _growth_params(params or {}) if definition.uses_period else parse_params(params)
    except ReportParamsError:
        return None
    return (p.date_from, p.date_to) if p.date_from and p.date_to else None


def build_report(*, user: Any, key: str, params: Mapping[str, Any] | None) -> ReportResult:
    """Build report ``key`` for ``user``; unknown keys and bad parameters raise
    ReportParamsError (pages show the errors, the API answers 422)."""
    definition = REPORTS.get(key)
    if definition is None:
        raise ReportParamsError({"key": [str(MSG_BAD_CHOICE % {"value": key})]})
    return definition.build(user, params or {})
