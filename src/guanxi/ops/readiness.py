"""Readiness checks: can this instance do its work (database, worker, disk, backups)?

Each check answers a dict with ``status`` "ok", "warn" or "error"; only "error" makes
/readyz answer 503. A missing worker or an old backup is a warning: the web side still serves.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

HEARTBEAT_STALE_SECONDS = 180


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except DatabaseError as exc:
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_worker(now: dt.datetime) -> dict[str, Any]:
    from guanxi.ops.job_models import WorkerHeartbeat

    try:
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except DatabaseError:
        return {"status": "error", "error": "heartbeat unreadable"}
    if beat is None:
        return {"status": "warn", "last_seen": None, "age_seconds": None}
    age = (now - beat.seen_at).total_seconds()
    status = "ok" if age <= HEARTBEAT_STALE_SECONDS else "warn"
    return {"status": status, "last_seen": beat.seen_at.isoformat(), "age_seconds": round(age)}


def check_disk() -> dict[str, Any]:
    usage = shutil.disk_usage(settings.DATA_DIR if settings.DATA_DIR.exists() else "/")
    free_mb = usage.free // (1024 * 1024)
    minimum = int(getattr(settings, "GUANXI_MIN_FREE_DISK_MB", 500))
    return {
        "status": "ok" if free_mb >= minimum else "error",
        "free_mb": free_mb,
        "min_free_mb": minimum,
    }


def check_backup(now: dt.datetime) -> dict[str, Any]:
    from guanxi.ops.backup_probe import backup_age_seconds

    age = backup_age_seconds(now)
    limit = int(getattr(settings, "GUANXI_BACKUP_MAX_AGE_HOURS", 26)) * 3600
    if age is None:
        return {"status": "warn", "age_seconds": None}
    return {"status": "ok" if age <= limit else "warn", "age_seconds": round(age)}


def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready, the checks by name)."""
    now = timezone.now()
    checks = {"database": check_database()}
    if checks["database"]["status"] == "ok":
        checks["worker"] = check_worker(now)
        checks["backup"] = check_backup(now)
    checks["disk"] = check_disk()
    ready = all(check["status"] != "error" for check in checks.values())
    return ready, checks
