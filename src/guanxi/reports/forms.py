"""The period and filter controls of the report pages (display only: the selectors validate)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Department
from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.widgets import FastSelect
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.follow_ups import METHOD_DICT
from guanxi.customers.forms import (
    _blank,
    _with_current,
    city_choices,
    owner_choices,
    province_choices,
    region_cascade_attrs,
)
from guanxi.customers.validation import DICTIONARY_FIELDS
from guanxi.reports.definitions import PERIOD_LABELS, ReportDefinition

CUSTOMER_FILTERS = (
    "status",
    "category",
    "industry",
    "source",
    "province",
    "city",
    "owner_id",
    "department_id",
)
FOLLOW_UP_FILTERS = ("owner_id", "department_id", "method")


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )


def _select(label: Any, choices: list[tuple[Any, Any]]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=choices,
        widget=FastSelect(attrs={"class": "form-select"}),
    )


class ReportFilterForm(forms.Form):
    """Renders the controls a report uses; its fields are named as the query parameters."""

    def __init__(self, data: Mapping[str, Any], *, definition: ReportDefinition, user: Any):
        super().__init__(data)
        fields: dict[str, forms.Field] = {}
        if definition.uses_range:
            fields["from"] = _date_field(_("开始日期"))
            fields["to"] = _date_field(_("结束日期"))
        if definition.uses_period:
            fields["period"] = _select(_("周期"), [(k, v) for k, v in PERIOD_LABELS.items()])
        if definition.dimensions:
            fields["by"] = _select(_("统计维度"), list(definition.dimensions.items()))
        names = {"follow_ups": FOLLOW_UP_FILTERS, "customers": CUSTOMER_FILTERS}.get(
            definition.filter_source, ()
        )
        for name in names:
            fields[name] = self._filter_field(name, data, user)
        if definition.filter_source == "follow_ups":
            fields["owner_id"].label, fields["department_id"].label = _("跟进人"), _("跟进人部门")
        self.fields.update(fields)
        if "province" in fields:
            region_cascade_attrs(self.fields, with_district=False)

    @staticmethod
    def _filter_field(name: str, data: Mapping[str, Any], user: Any) -> forms.Field:
        current = str(data.get(name) or "")
        if name == "status":
            return _select(_("客户状态"), _blank(_("全部状态")) + list(CustomerStatus.choices))
        if name in DICTIONARY_FIELDS:
            labels = dictionary_labels(DICTIONARY_FIELDS[name])
            title = {"category": _("客户分类"), "industry": _("所属行业"), "source": _("客户来源")}
            choices = _blank(_("全部")) + list(labels.items())
            return _select(title[name], _with_current(choices, current))
        if name == "province":
            choices = _blank(_("全部省份")) + province_choices()
            return _select(_("省份"), _with_current(choices, current))
        if name == "city":
            province = str(data.get("province") or "")
            choices = _blank(_("全部城市")) + city_choices(province)
            return _select(_("城市"), _with_current(choices, current))
        if name == "owner_id":
            people = [(str(pk), label) for pk, label in owner_choices(user)]
            return _select(_("负责人"), _with_current(_blank(_("全部")) + people, current))
        if name == "department_id":
            departments = Department.objects.order_by("name").values_list("pk", "name")
            options = [(str(pk), label) for pk, label in departments]
            return _select(_("部门"), _with_current(_blank(_("全部部门")) + options, current))
        methods = list(dictionary_labels(METHOD_DICT).items())
        return _select(_("跟进方式"), _with_current(_blank(_("全部")) + methods, current))


def quick_ranges(today: dt.date | None = None) -> list[tuple[str, dt.date, dt.date]]:
    """本周 / 本月 / 近30天 / 本年, each ending today (local)."""
    today = today or timezone.localdate()
    return [
        (str(_("本周")), today - dt.timedelta(days=today.weekday()), today),
        (str(_("本月")), today.replace(day=1), today),
        (str(_("近30天")), today - dt.timedelta(days=29), today),
        (str(_("本年")), today.replace(month=1, day=1), today),
    ]
