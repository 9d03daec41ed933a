"""Why a report request was refused (the API answers 422 with these under each field)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MSG_BAD_CHOICE = _("不支持的取值“%(value)s”")
MSG_RANGE_ORDER = _("结束日期不能早于开始日期")
MSG_RANGE_TOO_LONG = _("时间范围过长（最多 %(count)s 个周期）")
MSG_DATE_REQUIRED = _("请填写日期（YYYY-MM-DD）")
MSG_DATE_RANGE = _("日期须在 %(first)s 至 %(last)s 之间")


class ReportParamsError(Exception):
    """Report parameters that cannot be answered: ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors
