"""The 使用情况分析 report: usage_summary as a ReportResult (page, Excel, PDF, schedules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from guanxi.reports.report_params import parse_params
from guanxi.reports.results import Chart, ChartSeries, ReportResult, Table
from guanxi.reports.usage import usage_summary

MODULE_LABELS = {
    "auth": _("登录与账号安全"),
    "customer": _("客户"),
    "contact": _("联系人"),
    "follow_up": _("跟进记录"),
    "interaction": _("互动记录"),
    "tag": _("标签"),
    "tag_rule": _("标签规则"),
    "segment": _("客户分群"),
    "import": _("数据导入"),
    "export_job": _("数据导出"),
    "report": _("报表"),
    "report_schedule": _("定时报表"),
    "approval": _("审批"),
    "approval_flow": _("审批流程"),
    "task": _("待办任务"),
    "quality": _("数据质量"),
    "retention": _("个人信息清除"),
    "user": _("用户管理"),
    "role": _("角色管理"),
    "department": _("部门管理"),
    "dictionary": _("数据字典"),
    "custom_field": _("自定义字段"),
    "system_parameter": _("系统参数"),
    "job": _("定时任务"),
    "backup": _("数据备份"),
    "audit": _("审计日志"),
}


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def build_usage(user: Any, params: Mapping[str, Any]) -> ReportResult:
    """Sign-ins, actions, follow-up next steps and data completeness per department."""
    p = parse_params(params, filter_keys=())
    data = usage_summary(user=user, date_from=p.date_from, date_to=p.date_to)
    departments = data["departments"]
    rows, labels = [], []
    for d in departments:
        label = d["department"] or _g("未分配部门")
        labels.append(label)
        completeness = d["completeness"]
        rows.append(
            [
                label,
                d["users"],
                d["signed_in"],
                _percent(d["signed_in"], d["users"]),
                d["actions"],
                d["follow_ups"],
                _percent(d["with_next_step"], d["follow_ups"]),
                d["customers"],
                "—" if completeness is None else f"{completeness:.0f}",
            ]
        )
    counted = ("users", "signed_in", "actions", "follow_ups", "with_next_step", "customers")
    total = {k: sum(d[k] for d in departments) for k in counted}
    totals = (
        [
            _g("合计"),
            total["users"],
            total["signed_in"],
            _percent(total["signed_in"], total["users"]),
            total["actions"],
            total["follow_ups"],
            _percent(total["with_next_step"], total["follow_ups"]),
            total["customers"],
            "",
        ]
        if departments
        else None
    )
    columns = [
        _g("部门"),
        _g("用户数"),
        _g("登录人数"),
        _g("登录率"),
        _g("操作次数"),
        _g("跟进次数"),
        _g("含下一步的跟进"),
        _g("客户数"),
        _g("平均资料完整度"),
    ]
    modules = data["modules"]
    module_rows = [
        [str(MODULE_LABELS.get(m["module"], m["module"])), m["actions"], m["users"]]
        for m in modules
    ]
    return ReportResult(
        key="usage",
        title=_g("使用情况分析"),
        filters=[(_g("时间范围"), f"{p.date_from:%Y-%m-%d} ~ {p.date_to:%Y-%m-%d}")],
        charts=[
            Chart(
                "bar",
                _g("各部门登录人数"),
                labels,
                [
                    ChartSeries(_g("用户数"), [d["users"] for d in departments]),
                    ChartSeries(_g("登录人数"), [d["signed_in"] for d in departments]),
                ],
            ),
            Chart(
                "bar",
                _g("各模块操作次数"),
                [row[0] for row in module_rows],
                [ChartSeries(_g("操作次数"), [m["actions"] for m in modules])],
            ),
        ],
        tables=[
            Table(_g("各部门使用情况"), columns, rows, totals=totals),
            Table(_g("各模块使用情况"), [_g("模块"), _g("操作次数"), _g("使用人数")], module_rows),
        ],
    )
