"""Scheduled reports: a report with its parameters e-mailed daily, weekly or monthly as PDF
and/or Excel to users and roles, and one delivery row per recipient per run.

Each recipient's file is built as that recipient (their own data scope), so a schedule never
sends anyone more than they could see on the report page themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    DAILY = "daily", _("每天")  # every day at time_of_day
    WEEKLY = "weekly", _("每周")  # on weekday (0 = Monday) at time_of_day
    MONTHLY = "monthly", _("每月")  # on day_of_month (the last day in shorter months)


class FileFormat(models.TextChoices):
    PDF = "pdf", _("PDF")
    XLSX = "xlsx", _("Excel")
    BOTH = "both", _("PDF 和 Excel")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("已发送")  # the e-mail was handed to the mail server
    SKIPPED = "skipped", _("已跳过")  # recipient disabled, without e-mail or without the right
    FAILED = "failed", _("失败")  # building the report or sending the mail failed


WEEKDAYS = [
    (0, _("周一")),
    (1, _("周二")),
    (2, _("周三")),
    (3, _("周四")),
    (4, _("周五")),
    (5, _("周六")),
    (6, _("周日")),
]


class ReportSchedule(models.Model):
    """One report sent on a calendar; ``next_run_at`` (UTC) is when the worker sends it next."""

    name = models.CharField(_("名称"), max_length=100)
    report_key = models.CharField(_("报表"), max_length=32)
    params = models.JSONField(_("报表参数"), default=dict, blank=True)
    frequency = models.CharField(_("频率"), max_length=8, choices=Frequency.choices)
    time_of_day = models.TimeField(_("发送时间"))
    weekday = models.PositiveSmallIntegerField(_("星期"), null=True, blank=True, choices=WEEKDAYS)
    day_of_month = models.PositiveSmallIntegerField(_("每月几号"), null=True, blank=True)
    file_format = models.CharField(
        _("文件格式"), max_length=4, choices=FileFormat.choices, default=FileFormat.PDF
    )
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="report_schedules_received",
        verbose_name=_("接收人"),
    )
    recipient_roles = models.ManyToManyField(
        "accounts.Role", blank=True, related_name="report_schedules", verbose_name=_("接收角色")
    )
    enabled = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="report_schedules_created",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    last_run_at = models.DateTimeField(_("上次发送"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("下次发送"), null=True, blank=True)
    last_result = models.CharField(_("上次结果"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("定时报表")
        ordering = ["-id"]
        default_permissions = ()
        permissions = [("manage_schedule", _("管理定时报表（发送给他人或角色）"))]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="reports_sched_due")]

    def __str__(self) -> str:
        return self.name


class ReportDelivery(models.Model):
    """What one run did for one recipient: sent, skipped (and why) or failed (and why)."""

    schedule = models.ForeignKey(
        ReportSchedule, models.CASCADE, related_name="deliveries", verbose_name=_("定时报表")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("接收人"),
    )
    email = models.CharField(_("邮箱"), max_length=254, blank=True)
    sent_at = models.DateTimeField(_("时间"))
    status = models.CharField(_("状态"), max_length=8, choices=DeliveryStatus.choices)
    error = models.CharField(_("原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("定时报表发送记录")
        ordering = ["-sent_at", "-id"]
        default_permissions = ()
        indexes = [models.Index(fields=["schedule", "sent_at"], name="reports_delivery_sched")]
