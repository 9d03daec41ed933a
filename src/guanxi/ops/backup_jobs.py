"""The 立即备份 button's background task (the page returns at once; big backups take time)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(name="ops_backup_now")
def backup_now_task(kind: str, user_id: int) -> str:
    from guanxi.accounts.models import User
    from guanxi.ops.backup_service import backup_create

    actor = User.objects.get(pk=user_id)
    return backup_create(kind=kind, actor=actor).backup_id
