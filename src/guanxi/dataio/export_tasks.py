"""Background export tasks, run by ``guanxi worker`` (thin wrappers around
dataio.export_jobs; dataio.tasks imports this module so the worker finds them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from huey.contrib.djhuey import db_task

from guanxi.ops.schedule import scheduled_job


@db_task(name="export_job")
def export_job_task(job_id: int) -> str:
    """Write one queued export (a job already taken by another worker is skipped)."""
    from guanxi.dataio.export_jobs import export_job_run

    return export_job_run(job_id)


@scheduled_job(
    "purge_exports", title=_("清理过期导出文件"), cron="15 3 * * *", retries=2, retry_delay=600
)
def purge_exports_job() -> int:
    """03:15 daily: delete export files past GUANXI_EXPORT_KEEP_DAYS (idempotent)."""
    from guanxi.dataio.export_jobs import purge_expired_exports

    return purge_expired_exports()
