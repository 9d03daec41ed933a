"""The typed registry of system parameters and the one function that reads them.

A parameter's default is the Django setting of the same purpose (``GUANXI_*``, read at call
time, so deployments and tests that set it keep working); a value saved on the 系统参数 page
overrides it. Reads are remembered for the request (``core.request_memo``) and shared
through Django's cache for ``CACHE_SECONDS``: with Redis every process sees a change at once,
with the local default cache another process sees it within that time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from guanxi.core.request_memo import forget, remembered

CACHE_KEY = "ops:system-parameters:v1"
CACHE_SECONDS = 30
MEMO = "ops.parameters"

GROUPS = {
    "company": _("公司信息"),
    "session": _("会话策略"),
    "password": _("密码策略"),
    "lockout": _("登录锁定"),
    "retention": _("数据保留"),
    "backup": _("数据备份"),
}


@dataclass(frozen=True)
class Parameter:
    """One editable parameter: its group, label, type, bounds and the setting it defaults to."""

    key: str
    group: str
    label: Any
    kind: str  # "int", "str" or "choice"
    setting: str
    fallback: Any
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    help_text: Any = ""
    # For "str" parameters: the value -> an error message, or "" when it is acceptable.
    check: Callable[[str], Any] | None = None

    def default(self) -> Any:
        value = getattr(settings, self.setting, self.fallback)
        return str(value) if self.kind == "str" else value


def _int(
    key: str,
    group: str,
    label: Any,
    setting: str,
    fallback: int,
    lo: int,
    hi: int,
    help_text: Any = "",
) -> Parameter:
    return Parameter(key, group, label, "int", setting, fallback, lo, hi, help_text=help_text)


PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "company_name", "company", _("公司名称（显示在顶栏）"), "str", "APP_TITLE", "", max_value=60
    ),
    _int(
        "session_idle_minutes",
        "session",
        _("空闲超时(分钟)"),
        "GUANXI_SESSION_IDLE_MINUTES",
        30,
        5,
        1440,
    ),
    _int(
        "session_max_hours",
        "session",
        _("会话最长有效期(小时)"),
        "GUANXI_SESSION_MAX_HOURS",
        12,
        1,
        720,
    ),
    _int(
        "max_sessions",
        "session",
        _("每人同时在线会话数(0 为不限)"),
        "GUANXI_MAX_SESSIONS",
        3,
        0,
        50,
    ),
    Parameter(
        "session_limit_policy",
        "session",
        _("超过会话数时"),
        "choice",
        "GUANXI_SESSION_LIMIT_POLICY",
        "end_oldest",
        choices=(("end_oldest", _("结束最早的会话")), ("refuse", _("拒绝新的登录"))),
    ),
    _int(
        "password_min_length",
        "password",
        _("密码最短长度"),
        "GUANXI_PASSWORD_MIN_LENGTH",
        10,
        6,
        64,
    ),
    _int(
        "password_classes",
        "password",
        _("至少包含的字符类别数"),
        "GUANXI_PASSWORD_CLASSES",
        3,
        0,
        4,
        _("大写字母、小写字母、数字、符号"),
    ),
    _int(
        "password_history",
        "password",
        _("不得重复最近几次密码"),
        "GUANXI_PASSWORD_HISTORY",
        5,
        0,
        24,
    ),
    _int(
        "password_max_age_days",
        "password",
        _("密码有效期(天，0 为永久)"),
        "GUANXI_PASSWORD_MAX_AGE_DAYS",
        90,
        0,
        3650,
    ),
    _int(
        "lockout_failures", "lockout", _("连续失败几次后锁定"), "GUANXI_LOCKOUT_FAILURES", 5, 1, 100
    ),
    _int(
        "lockout_window_minutes",
        "lockout",
        _("失败次数统计窗口(分钟)"),
        "GUANXI_LOCKOUT_WINDOW_MINUTES",
        15,
        1,
        1440,
    ),
    _int("lockout_minutes", "lockout", _("锁定时长(分钟)"), "GUANXI_LOCKOUT_MINUTES", 30, 1, 10080),
    _int(
        "recycle_bin_days",
        "retention",
        _("回收站保留天数(0 为不自动清除)"),
        "GUANXI_RECYCLE_BIN_DAYS",
        30,
        0,
        3650,
    ),
    _int(
        "retention_lost_days",
        "retention",
        _("流失客户个人信息保留天数"),
        "GUANXI_RETENTION_LOST_DAYS",
        730,
        30,
        7300,
    ),
    _int(
        "churn_after_days",
        "retention",
        _("合作客户最后合同/订单结束多少天后提示流失(0 为不提示)"),
        "GUANXI_CHURN_AFTER_DAYS",
        90,
        0,
        3650,
    ),
    _int(
        "import_undo_days", "retention", _("导入可撤销天数"), "GUANXI_IMPORT_UNDO_DAYS", 7, 1, 365
    ),
    _int(
        "export_keep_days", "retention", _("导出文件保留天数"), "GUANXI_EXPORT_KEEP_DAYS", 7, 1, 365
    ),
    _int(
        "backup_keep_days", "backup", _("本地备份保留天数"), "GUANXI_BACKUP_KEEP_DAYS", 30, 1, 3650
    ),
    Parameter(
        "backup_offsite_target",
        "backup",
        _("异地备份目标"),
        "str",
        "GUANXI_BACKUP_OFFSITE_DIR",
        "",
        max_value=500,
        help_text=_("另一块磁盘或挂载点的绝对路径，或 s3://存储桶/前缀；留空则不做异地备份"),
        check=lambda value: offsite_target_error(value),  # defined below the registry
    ),
    _int(
        "backup_offsite_keep_days",
        "backup",
        _("异地备份保留天数"),
        "GUANXI_BACKUP_OFFSITE_KEEP_DAYS",
        90,
        1,
        3650,
    ),
)
BY_KEY = {p.key: p for p in PARAMETERS}


def offsite_target_error(value: str) -> Any:
    """An off-site target is empty (none), ``s3://bucket[/prefix]`` or an absolute path of a
    directory outside the local backup directory (a copy on the same disk is no copy)."""
    from pathlib import Path

    if not value:
        return ""
    if value.startswith("s3://"):
        bucket = value[5:].partition("/")[0]
        return "" if bucket else _("S3 目标须为 s3://存储桶[/前缀]。")
    path = Path(value)
    if not path.is_absolute():
        return _("请填写绝对路径（另一块磁盘或挂载点），或 s3://存储桶[/前缀]。")
    local = Path(settings.GUANXI_BACKUP_DIR).resolve()
    if path.resolve() == local or local in path.resolve().parents:
        return _("异地备份目录不能位于本地备份目录之内。")
    return ""


def stored_values() -> dict[str, Any]:
    """The saved values (key → value): once per request, else from the shared cache."""

    def load() -> dict[str, Any]:
        values = cache.get(CACHE_KEY)
        if values is None:
            from guanxi.ops.parameter_models import SystemParameter

            try:
                values = dict(SystemParameter.objects.values_list("key", "value"))
            except (DatabaseError, RuntimeError):  # no table yet (before migrate), no database
                return {}
            cache.set(CACHE_KEY, values, CACHE_SECONDS)
        return values

    return remembered((MEMO,), load)


def system_parameter(key: str) -> Any:
    """The value of one registered parameter: the saved one, else the settings default."""
    parameter = BY_KEY[key]
    values = stored_values()
    return values[key] if key in values else parameter.default()


def invalidate() -> None:
    """After a write: drop this request's memo and the shared cached copy."""
    forget(MEMO)
    cache.delete(CACHE_KEY)


def company_name() -> str:
    """The name in the top bar and page titles: the saved one, else ``APP_TITLE``."""
    return str(system_parameter("company_name") or settings.APP_TITLE)


def company_logo() -> str:
    """The stored logo's file name under media ("" when none was uploaded)."""
    return str(stored_values().get("company_logo") or "")
