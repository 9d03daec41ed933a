"""Writing scheduled reports: create, update, delete and 立即发送, each checked and audited.

Anyone who may see reports may schedule one for themselves; sending to other users or to
roles needs ``reports.manage_schedule`` (admins, data admins, sales managers, analysts by
default). A schedule is seen and edited by its creator and by holders of that right.
The report's parameters are checked by building the report once as the creator, so a
schedule that could never be built is refused when it is saved, not at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.reports.schedule_models import FileFormat, Frequency, ReportSchedule
from guanxi.reports.schedule_timing import schedule_next_run

VIEW_PERM = "reports.view_report"
MANAGE_PERM = "reports.manage_schedule"
FIELDS = (
    "name",
    "report_key",
    "params",
    "frequency",
    "time_of_day",
    "weekday",
    "day_of_month",
    "file_format",
    "enabled",
)
MSG_NAME = _("请填写名称")
MSG_REPORT = _("请选择报表")
MSG_WEEKDAY = _("每周发送须选择星期几")
MSG_DAY = _("每月发送须填写 1 到 31 之间的日期")
MSG_TIME = _("请填写发送时间")
MSG_NO_RECIPIENT = _("请至少选择一个接收人或接收角色")
MSG_OTHERS = _("只能发送给自己；发送给其他用户或角色需要“管理定时报表”权限")
MSG_PARAMS = _("报表参数有误：%(errors)s")

register_actions(
    {
        "report_schedule.create": _("新建定时报表"),
        "report_schedule.update": _("修改定时报表"),
        "report_schedule.delete": _("删除定时报表"),
        "report_schedule.run": _("发送定时报表"),
    }
)


def schedule_queryset(user: Any) -> QuerySet[ReportSchedule]:
    """The schedules ``user`` may see: all with the manage right, else their own."""
    qs = ReportSchedule.objects.select_related("created_by")
    if not user.has_perm(VIEW_PERM):
        return qs.none()
    return qs if user.has_perm(MANAGE_PERM) else qs.filter(created_by=user)


def schedule_get(user: Any, pk: int) -> ReportSchedule:
    """One schedule ``user`` may see, or NotFound (someone else's is "not found")."""
    schedule = schedule_queryset(user).filter(pk=pk).first()
    if schedule is None:
        raise NotFound()
    return schedule


def _check_params(actor: Any, key: str, params: Mapping[str, Any]) -> None:
    from guanxi.reports.export_service import build_checked

    try:
        build_checked(user=actor, key=key, params=params)
    except NotFound as exc:
        raise ValidationError({"report_key": [MSG_REPORT]}) from exc
    except ValidationError as exc:
        text = "；".join(str(m) for m in exc.messages)
        raise ValidationError({"params": [MSG_PARAMS % {"errors": text}]}) from exc


def _validate(actor: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """The schedule's field values, or a ValidationError naming each bad field."""
    from guanxi.reports.definitions import REPORTS

    errors: dict[str, list[Any]] = {}
    clean = {k: data.get(k) for k in FIELDS}
    clean["name"] = str(clean["name"] or "").strip()[:100]
    clean["params"] = {str(k): str(v) for k, v in (clean["params"] or {}).items() if v != ""}
    clean["enabled"] = bool(data.get("enabled", True))
    clean["file_format"] = clean["file_format"] or FileFormat.PDF
    if not clean["name"]:
        errors["name"] = [MSG_NAME]
    if clean["report_key"] not in REPORTS:
        errors["report_key"] = [MSG_REPORT]
    if clean["frequency"] not in Frequency.values:
        errors["frequency"] = [_("请选择频率")]
    if clean["file_format"] not in FileFormat.values:
        errors["file_format"] = [_("请选择文件格式")]
    if clean["time_of_day"] is None:
        errors["time_of_day"] = [MSG_TIME]
    if clean["frequency"] == Frequency.WEEKLY and clean["weekday"] not in range(7):
        errors["weekday"] = [MSG_WEEKDAY]
    if clean["frequency"] == Frequency.MONTHLY and clean["day_of_month"] not in range(1, 32):
        errors["day_of_month"] = [MSG_DAY]
    if clean["frequency"] != Frequency.WEEKLY:
        clean["weekday"] = None
    if clean["frequency"] != Frequency.MONTHLY:
        clean["day_of_month"] = None
    users, roles = list(data.get("recipient_users") or []), list(data.get("recipient_roles") or [])
    if not users and not roles:
        errors["recipient_users"] = [MSG_NO_RECIPIENT]
    elif not actor.has_perm(MANAGE_PERM) and (roles or {u.pk for u in users} != {actor.pk}):
        errors["recipient_users"] = [MSG_OTHERS]
    if errors:
        raise ValidationError(errors)
    _check_params(actor, clean["report_key"], clean["params"])
    return {**clean, "recipient_users": users, "recipient_roles": roles}


def _require(actor: Any, schedule: ReportSchedule | None = None) -> None:
    if not actor.has_perm(VIEW_PERM):
        raise PermissionDenied()
    if schedule is not None:
        schedule_get(actor, schedule.pk)


def _snapshot(schedule: ReportSchedule) -> dict[str, Any]:
    values = {k: getattr(schedule, k) for k in FIELDS}
    values["time_of_day"] = str(values["time_of_day"])
    values["recipient_users"] = sorted(schedule.recipient_users.values_list("pk", flat=True))
    values["recipient_roles"] = sorted(schedule.recipient_roles.values_list("code", flat=True))
    return values


def _save(schedule: ReportSchedule, clean: dict[str, Any]) -> None:
    for name in FIELDS:
        setattr(schedule, name, clean[name])
    schedule.next_run_at = schedule_next_run(schedule, timezone.now()) if schedule.enabled else None
    schedule.save()
    schedule.recipient_users.set(clean["recipient_users"])
    schedule.recipient_roles.set(clean["recipient_roles"])


@audited_refusals("report_schedule.create", target="schedule")
def schedule_create(
    *, actor: Any, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> ReportSchedule:
    """A new schedule owned by ``actor``, first sent at its next calendar time."""
    _require(actor)
    clean = _validate(actor, data)
    with transaction.atomic():
        schedule = ReportSchedule(created_by=actor)
        _save(schedule, clean)
        audit_record(
            actor=actor, action="report_schedule.create", obj=schedule,
            changes=_snapshot(schedule), meta=meta,
        )  # fmt: skip
    return schedule


@audited_refusals("report_schedule.update", target="schedule")
def schedule_update(
    *,
    actor: Any,
    schedule: ReportSchedule,
    data: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> ReportSchedule:
    """Change a schedule; its next send time is recomputed from now."""
    _require(actor, schedule)
    clean = _validate(actor, data)
    with transaction.atomic():
        before = _snapshot(schedule)
        _save(schedule, clean)
        after = _snapshot(schedule)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(
            actor=actor, action="report_schedule.update", obj=schedule, changes=changes, meta=meta
        )
    return schedule


@audited_refusals("report_schedule.delete", target="schedule")
def schedule_delete(
    *, actor: Any, schedule: ReportSchedule, meta: RequestMeta | None = None
) -> None:
    """Remove a schedule and its delivery history (the audit log keeps the runs)."""
    _require(actor, schedule)
    with transaction.atomic():
        audit_record(
            actor=actor, action="report_schedule.delete", obj=schedule,
            changes=_snapshot(schedule), meta=meta,
        )  # fmt: skip
        schedule.delete()


@audited_refusals("report_schedule.run", target="schedule")
def schedule_run_now(
    *, actor: Any, schedule: ReportSchedule, meta: RequestMeta | None = None
) -> dict[str, int]:
    """立即发送: one run now, outside the calendar (the next scheduled time is unchanged)."""
    from guanxi.reports.schedule_delivery import run_schedule

    _require(actor, schedule)
    return run_schedule(schedule, actor=actor, meta=meta)
