"""Restore verification: prove a recent backup chain restores, without touching live data.

The chain is restored into a scratch database (a temporary SQLite file, or a scratch
PostgreSQL database beside the live one), compared with its manifest, and the outcome filed
as a 数据备份验证记录. A failure notifies every admin.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from guanxi.ops.backup_db import SqliteDatabase, live_database
from guanxi.ops.backup_models import Backup, BackupVerification
from guanxi.ops.backup_pg import PostgresDatabase
from guanxi.ops.backup_service import backup_dir
from guanxi.ops.restore_service import backup_chain, compare, restore_chain_into


def verify_backup(backup: Backup) -> BackupVerification:
    """Restore ``backup``'s chain into scratch, compare, record; never raises for a bad backup."""
    started_at, started = timezone.now(), time.monotonic()
    live = live_database()
    ids: list[str] = backup.manifest.get("chain", [backup.backup_id])
    ok, message, rows = False, "", 0
    with tempfile.TemporaryDirectory(dir=backup_dir() / "tmp") as work_name:
        work = Path(work_name)
        scratch: SqliteDatabase | PostgresDatabase
        if isinstance(live, PostgresDatabase):
            scratch = live.create_scratch(f"{live.name}_verify")
        else:
            scratch = SqliteDatabase(work / "scratch.sqlite3")
        try:
            chain = backup_chain(backup)
            restore_chain_into(scratch, chain, work, media=False)
            problems, rows = compare(scratch, backup)
            ok = not problems
            message = "; ".join(problems) if problems else "行数与校验和一致，加密字段可解密"
        except Exception as exc:
            message = f"验证失败: {exc}"
        finally:
            if isinstance(scratch, PostgresDatabase):
                scratch.drop()
    record = BackupVerification.objects.create(
        backup_id=backup.backup_id,
        chain=ids,
        started_at=started_at,
        seconds=round(time.monotonic() - started, 3),
        ok=ok,
        tables=len(backup.manifest.get("tables", {})),
        rows=rows,
        message=message[:4000],
    )
    if not ok:
        _alert(record)
    return record


def verify_latest_backup() -> BackupVerification | None:
    """The monthly job body: a random backup from the last GUANXI_BACKUP_VERIFY_DAYS days."""
    since = timezone.now() - timedelta(days=settings.GUANXI_BACKUP_VERIFY_DAYS)
    candidates = list(Backup.objects.filter(created_at__gte=since, vendor=live_database().vendor))
    if not candidates:
        return None
    return verify_backup(random.choice(candidates))


def _alert(record: BackupVerification) -> None:
    from django.urls import reverse

    from guanxi.workflow.models import NotificationLevel
    from guanxi.workflow.notifications import admins, notify

    notify(
        admins(),
        kind="backup_verification_failed",
        title=f"备份验证失败：{record.backup_id}",
        body=record.message[:1000],
        url=reverse("ops:backup_verifications"),
        level=NotificationLevel.ALERT,
    )
