"""Scheduled backup jobs: weekly full (Sunday 23:00), daily incremental (01:00), monthly
restore verification (1st, 05:00). These are the default schedules; once the worker has
seen a job, its schedule is a ``ScheduledJob`` row administrators edit (系统设置 → 定时任务).
The bodies are plain functions the CLI and tests call too."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.ops.schedule import scheduled_job


def run_scheduled_backup(kind: str) -> str:
    """The scheduled backup body; returns the new backup's id."""
    from guanxi.ops.backup_models import BackupTrigger
    from guanxi.ops.backup_service import backup_create

    return backup_create(kind=kind, trigger=BackupTrigger.SCHEDULE).backup_id


@scheduled_job("backup_full", title=_("全量备份"), cron="0 23 * * 0", retries=1, retry_delay=900)
def backup_full_job() -> str:
    return run_scheduled_backup("full")


@scheduled_job(
    "backup_incremental", title=_("增量备份"), cron="0 1 * * *", retries=1, retry_delay=900
)
def backup_incremental_job() -> str:
    return run_scheduled_backup("incremental")


@scheduled_job("backup_verify", title=_("备份恢复验证"), cron="0 5 1 * *", retries=0)
def backup_verify_job() -> Any:
    """A failed verification is a record plus an alert, not a job failure to retry."""
    from guanxi.ops.verification import verify_latest_backup

    record = verify_latest_backup()
    return None if record is None else {"backup": record.backup_id, "ok": record.ok}
