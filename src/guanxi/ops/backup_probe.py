"""The seam between health/status and the backup catalog.

Health, metrics and the status page only need "when was the last backup / verification".
The catalog belongs to the backup module; it is imported lazily here and every answer is
None when it is absent or unreadable, so probes never fail because backups are not set up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import DatabaseError


def last_backup() -> Any | None:
    """The newest catalogued backup, or None."""
    try:
        from guanxi.ops.backup_models import Backup

        return Backup.objects.order_by("-created_at").first()
    except (ImportError, DatabaseError, AttributeError):
        return None


def last_verification() -> Any | None:
    """The newest restore verification, or None."""
    try:
        from guanxi.ops.backup_models import BackupVerification

        return BackupVerification.objects.order_by("-started_at").first()
    except (ImportError, DatabaseError, AttributeError):
        return None


def backup_age_seconds(now: dt.datetime) -> float | None:
    """Seconds since the newest backup, or None when there is none."""
    backup = last_backup()
    created = getattr(backup, "created_at", None)
    return None if created is None else max(0.0, (now - created).total_seconds())
