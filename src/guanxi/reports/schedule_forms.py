"""The scheduled-report form: the shape of the input only (the service validates the rest).

The report's parameters are entered as the query string of the report page (what follows
``?`` in its address, e.g. ``by=status&province=广东省``), so any filter a report page
offers can be scheduled without a form per report; the 新建 link on a report page fills it in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Role
from guanxi.reports.schedule_models import WEEKDAYS, FileFormat, Frequency, ReportSchedule
from guanxi.reports.schedule_services import MANAGE_PERM

PARAMS_HELP = _(
    "与报表页面地址中 ? 之后的内容相同，例如 by=status&province=广东省；"
    "不填时间范围则与报表页面的默认范围相同（截至发送当天）。"
)


def _report_choices() -> list[tuple[str, Any]]:
    from guanxi.reports.definitions import REPORTS

    return [(k, d.title) for k, d in REPORTS.items()]


def params_text(params: dict[str, Any]) -> str:
    return urlencode(params or {})


def _attrs(kind: str = "form-control", **extra: Any) -> dict[str, Any]:
    return {"class": kind, **extra}


class ScheduleForm(forms.Form):
    """Name, report and parameters, calendar, format, recipients."""

    name = forms.CharField(label=_("名称"), max_length=100, widget=forms.TextInput(_attrs()))
    report_key = forms.ChoiceField(label=_("报表"), widget=forms.Select(_attrs("form-select")))
    params = forms.CharField(
        label=_("报表参数"), required=False, max_length=2000, help_text=PARAMS_HELP,
        widget=forms.TextInput(_attrs(placeholder="by=status&province=广东省")),
    )  # fmt: skip
    frequency = forms.ChoiceField(
        label=_("频率"), choices=Frequency.choices, widget=forms.Select(_attrs("form-select"))
    )
    time_of_day = forms.TimeField(
        label=_("发送时间"), widget=forms.TimeInput(_attrs(type="time"), format="%H:%M")
    )
    weekday = forms.TypedChoiceField(
        label=_("星期（每周）"), required=False, coerce=int, empty_value=None,
        choices=[("", "—"), *WEEKDAYS], widget=forms.Select(_attrs("form-select")),
    )  # fmt: skip
    day_of_month = forms.IntegerField(
        label=_("日期（每月）"), required=False, min_value=1, max_value=31,
        widget=forms.NumberInput(_attrs(min=1, max=31)),
    )  # fmt: skip
    file_format = forms.ChoiceField(
        label=_("文件格式"), choices=FileFormat.choices, widget=forms.Select(_attrs("form-select"))
    )
    recipient_users = forms.ModelMultipleChoiceField(
        label=_("接收人"), required=False, queryset=get_user_model().objects.none(),
        widget=forms.SelectMultiple(_attrs("form-select", size=6)),
    )  # fmt: skip
    recipient_roles = forms.ModelMultipleChoiceField(
        label=_("接收角色"), required=False, queryset=Role.objects.order_by("id"),
        widget=forms.SelectMultiple(_attrs("form-select", size=6)),
    )  # fmt: skip
    enabled = forms.BooleanField(
        label=_("启用"), required=False, widget=forms.CheckboxInput(_attrs("form-check-input"))
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report_key"].choices = _report_choices()
        users = get_user_model().objects.filter(is_active=True, deleted_at__isnull=True)
        self.may_send_to_others = user.has_perm(MANAGE_PERM)
        if self.may_send_to_others:
            self.fields["recipient_users"].queryset = users.order_by("id")
        else:
            self.fields["recipient_users"].queryset = users.filter(pk=user.pk)
            del self.fields["recipient_roles"]

    def clean_params(self) -> dict[str, str]:
        text = (self.cleaned_data.get("params") or "").strip().lstrip("?")
        return {k: v for k, v in parse_qsl(text) if k not in ("format", "key") and v}

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.setdefault("recipient_roles", [])
        return data


def initial_for(schedule: ReportSchedule | None, query: dict[str, str], user: Any) -> dict:
    """Form values for an existing schedule, or a new one from a report page's link
    (``?key=distribution&by=status...``), sent to oneself by default."""
    if schedule is not None:
        return {
            "name": schedule.name, "report_key": schedule.report_key,
            "params": params_text(schedule.params), "frequency": schedule.frequency,
            "time_of_day": schedule.time_of_day, "weekday": schedule.weekday,
            "day_of_month": schedule.day_of_month, "file_format": schedule.file_format,
            "recipient_users": list(schedule.recipient_users.all()),
            "recipient_roles": list(schedule.recipient_roles.all()),
            "enabled": schedule.enabled,
        }  # fmt: skip
    from guanxi.reports.definitions import REPORTS

    params = {k: v for k, v in query.items() if k not in ("key", "format") and v}
    key = query.get("key", "dashboard")
    return {
        "name": str(REPORTS[key].title) if key in REPORTS else "",
        "report_key": key,
        "params": params_text(params),
        "frequency": Frequency.WEEKLY,
        "time_of_day": "08:00",
        "weekday": 0,
        "file_format": FileFormat.PDF,
        "recipient_users": [user],
        "enabled": True,
    }
