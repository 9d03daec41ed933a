"""What the 系统状态 page shows: database size, queue, workers, backups, recent errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.ops.backup_probe import last_backup, last_verification
from guanxi.ops.job_models import JobRun, JobStatus, ScheduledJob, WorkerHeartbeat
from guanxi.ops.metrics import queue_depth
from guanxi.ops.readiness import readiness

RECENT_DAYS = 7


def database_size_bytes() -> int | None:
    """The database's size: the SQLite file (with its WAL), or pg_database_size."""
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_database_size(current_database())")
                return int(cur.fetchone()[0])
        name = Path(str(connection.settings_dict["NAME"]))
        files = [name, name.with_name(name.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) or None
    except (DatabaseError, OSError, TypeError, ValueError):
        return None


def system_status() -> dict[str, Any]:
    now = timezone.now()
    since = now - dt.timedelta(days=RECENT_DAYS)
    ready, checks = readiness()
    return {
        "ready": ready,
        # A missing worker or an old backup does not stop the web side, but an admin must see it.
        "warnings": [name for name, check in checks.items() if check["status"] == "warn"],
        "checks": checks,
        "vendor": connection.vendor,
        "database_bytes": database_size_bytes(),
        "queue_depth": queue_depth(),
        "workers": list(WorkerHeartbeat.objects.order_by("-seen_at")[:10]),
        "stale_before": now - dt.timedelta(seconds=180),
        "last_backup": last_backup(),
        "last_verification": last_verification(),
        "failing_jobs": list(
            ScheduledJob.objects.filter(
                last_status__in=[JobStatus.FAILED, JobStatus.RETRYING]
            ).order_by("name")
        ),
        "failed_runs": list(
            JobRun.objects.filter(status=JobStatus.FAILED, started_at__gte=since)
            .select_related("job")
            .order_by("-started_at")[:10]
        ),
        "failed_actions": list(
            AuditEntry.objects.filter(result=AuditResult.FAILED, occurred_at__gte=since).order_by(
                "-pk"
            )[:10]
        ),
        "version": settings.VERSION,
    }
