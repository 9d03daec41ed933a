"""``guanxi restore ID [--yes]``: restore the full backup and incrementals up to ID.

Current data is overwritten (after a safety backup). Stop ``guanxi worker`` and the web
server first. Without ``--yes`` the command asks for the backup id to be typed again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Restore a backup chain over the current data (a safety backup is taken first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_id")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.ops.backup_models import Backup
        from guanxi.ops.backup_service import BackupError, catalog_sync
        from guanxi.ops.restore_service import backup_chain, restore_backup

        catalog_sync()
        backup = Backup.objects.filter(backup_id=options["backup_id"]).first()
        if backup is None:
            raise CommandError(f"no backup {options['backup_id']}")
        try:
            chain = [b.backup_id for b in backup_chain(backup)]
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restores: {' -> '.join(chain)}")
        self.stdout.write("WARNING: current data will be overwritten (当前数据将被覆盖)")
        if not options["yes"]:
            answer = input(f"type the backup id ({backup.backup_id}) to continue: ")
            if answer.strip() != backup.backup_id:
                raise CommandError("not confirmed; nothing changed")
        try:
            log = restore_backup(backup=backup, confirmed=True)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"safety backup: {log.safety_backup_id}")
        if not log.ok:
            raise CommandError(log.message)
        self.stdout.write(log.message)
