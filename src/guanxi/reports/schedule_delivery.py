"""Sending scheduled reports: each recipient gets the report built as themselves.

A run resolves the recipients (users named, plus members of the roles named), then for each
one: skipped when disabled, without an e-mail address or without ``reports.view_report``;
otherwise the report is built in the recipient's own scope, written as PDF and/or Excel and
mailed. Every outcome is a ReportDelivery row, and the run is one audit entry.

The worker's job (``run_due_schedules``) claims a due schedule by moving its ``next_run_at``
forward in a conditional UPDATE first, so two workers never send the same run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.errors import NotFound
from guanxi.reports.schedule_models import DeliveryStatus, ReportDelivery, ReportSchedule
from guanxi.reports.schedule_timing import schedule_next_run

log = logging.getLogger(__name__)
VIEW_PERM = "reports.view_report"
INACTIVE = ("disabled", "deleted")


def recipients(schedule: ReportSchedule) -> list[Any]:
    """Users named on the schedule and members of its roles, each once, by id."""
    user_model = get_user_model()
    roles = list(schedule.recipient_roles.values_list("pk", flat=True))
    named = Q(report_schedules_received=schedule)
    condition = named | Q(roles__in=roles) if roles else named
    return list(user_model.objects.filter(condition).distinct().order_by("pk"))


def skip_reason(user: Any) -> str:
    """Why ``user`` gets nothing from a run ("" when they get the report)."""
    if not user.is_active or getattr(user, "status", "") in INACTIVE or user.deleted_at:
        return _("账号已停用")
    if not user.email:
        return _("未设置邮箱")
    if not user.has_perm(VIEW_PERM):
        return _("无查看统计报表权限")
    return ""


def formats(schedule: ReportSchedule) -> list[str]:
    return ["pdf", "xlsx"] if schedule.file_format == "both" else [schedule.file_format]


def _message(schedule: ReportSchedule, user: Any, files: list[Any], title: str) -> EmailMessage:
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    body = _(
        "%(name)s：\n\n附件是定时报表“%(schedule)s”（%(report)s），生成于 %(time)s，"
        "数据范围为您本人可查看的数据。\n\n此邮件由关系 CRM 自动发送，请勿直接回复。"
    ) % {"name": user.name or user.username, "schedule": schedule.name, "report": title,
         "time": stamp}  # fmt: skip
    message = EmailMessage(
        subject=_("【定时报表】%(name)s") % {"name": schedule.name},
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    for file in files:
        message.attach(file.filename, file.content, file.content_type)
    return message


def deliver(schedule: ReportSchedule, user: Any, now: dt.datetime) -> ReportDelivery:
    """Build, write and mail the report for one recipient; the outcome as a delivery row."""
    from guanxi.reports.export_service import build_checked, write_report_file

    status, error = DeliveryStatus.SENT, skip_reason(user)
    if error:
        status = DeliveryStatus.SKIPPED
    else:
        try:
            result = build_checked(user=user, key=schedule.report_key, params=schedule.params)
            files = [write_report_file(result, f, user=user) for f in formats(schedule)]
            _message(schedule, user, files, result.title).send()
        except (NotFound, ValidationError) as exc:
            status, error = DeliveryStatus.FAILED, "；".join(getattr(exc, "messages", [str(exc)]))
        except Exception as exc:  # one bad mailbox or report must not stop the others
            log.exception("scheduled report %s to user %s failed", schedule.pk, user.pk)
            status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
    return ReportDelivery.objects.create(
        schedule=schedule,
        recipient=user,
        email=user.email or "",
        sent_at=now,
        status=status,
        error=error[:255],
    )


def run_schedule(
    schedule: ReportSchedule, *, actor: Any = None, meta: RequestMeta | None = None
) -> dict[str, int]:
    """One run of ``schedule`` to every recipient; counts by outcome (sent/skipped/failed)."""
    now = timezone.now()
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    for user in recipients(schedule):
        counts[deliver(schedule, user, now).status] += 1
    summary = _("发送 %(sent)s，跳过 %(skipped)s，失败 %(failed)s") % counts
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_at=now, last_result=summary)
    schedule.last_run_at, schedule.last_result = now, summary
    audit_record(
        actor=actor,
        action="report_schedule.run",
        obj=schedule,
        params={"report": schedule.report_key, "trigger": "manual" if actor else "schedule",
                **counts},
        meta=meta,
    )  # fmt: skip
    return counts


def run_due_schedules(now: dt.datetime | None = None) -> int:
    """Send every enabled schedule whose time has come; the number of schedules run."""
    now = now or timezone.now()
    due = ReportSchedule.objects.filter(enabled=True, next_run_at__lte=now).order_by("next_run_at")
    ran = 0
    for schedule in due:
        following = schedule_next_run(schedule, now)
        claimed = ReportSchedule.objects.filter(
            pk=schedule.pk, enabled=True, next_run_at=schedule.next_run_at
        ).update(next_run_at=following)
        if not claimed:
            continue  # another worker took it, or it was edited meanwhile
        schedule.next_run_at = following
        try:
            run_schedule(schedule)
        except Exception:  # the next due schedule still goes out
            log.exception("scheduled report %s failed", schedule.pk)
            continue
        ran += 1
    return ran
