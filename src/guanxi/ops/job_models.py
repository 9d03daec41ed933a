"""The job schedule as data: which periodic jobs run when, and what each run did.

A row per job (``ScheduledJob``) is edited under 系统设置 → 定时任务; the worker's minute tick
claims due rows with a conditional UPDATE, so one worker wins each period however many run.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    NEVER = "never", _("未运行")  # the job has not run since it was scheduled
    RUNNING = "running", _("运行中")  # claimed by a worker, not finished yet
    SUCCESS = "success", _("成功")  # the last run returned
    RETRYING = "retrying", _("等待重试")  # the last run failed, a retry is scheduled
    FAILED = "failed", _("失败")  # the last run failed and its retries are spent


class ScheduledJob(models.Model):
    """One periodic job: its cron schedule and the outcome of its last run."""

    name = models.CharField(_("任务代码"), max_length=64, unique=True)
    title = models.CharField(_("名称"), max_length=100)
    cron = models.CharField(_("Cron 表达式"), max_length=100)
    enabled = models.BooleanField(_("启用"), default=True)
    max_retries = models.PositiveSmallIntegerField(_("最多重试次数"), default=2)
    retry_delay_seconds = models.PositiveIntegerField(_("首次重试间隔(秒)"), default=60)
    next_run_at = models.DateTimeField(_("下次运行"), null=True, blank=True, db_index=True)
    retry_at = models.DateTimeField(_("重试时间"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("连续失败次数"), default=0)
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)
    last_status = models.CharField(
        _("上次状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.NEVER
    )
    last_result = models.TextField(_("上次结果"), blank=True, default="")
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")
        ordering = ["name"]
        permissions = [("manage_system", "Manage jobs, system parameters and system status")]

    def __str__(self) -> str:
        return f"{self.title} ({self.name})"


class JobRun(models.Model):
    """One execution of a scheduled job (a retry is a run of its own)."""

    job = models.ForeignKey(
        ScheduledJob, on_delete=models.CASCADE, related_name="runs", verbose_name=_("任务")
    )
    scheduled_for = models.DateTimeField(_("计划时间"))
    attempt = models.PositiveSmallIntegerField(_("第几次尝试"), default=1)
    manual = models.BooleanField(_("手动触发"), default=False)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices)
    result = models.TextField(_("结果"), blank=True, default="")
    error = models.TextField(_("错误"), blank=True, default="")
    worker = models.CharField(_("执行进程"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("任务运行记录")
        verbose_name_plural = _("任务运行记录")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["job", "-started_at"], name="ops_jobrun_job_started")]


class WorkerHeartbeat(models.Model):
    """The last minute tick of each worker process: /readyz and the status page read it."""

    worker = models.CharField(_("执行进程"), max_length=100, unique=True)
    seen_at = models.DateTimeField(_("最近心跳"), db_index=True)

    class Meta:
        verbose_name = _("后台进程心跳")
        verbose_name_plural = _("后台进程心跳")
