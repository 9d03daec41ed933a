"""``guanxi backups [--json]``: the backups that are complete, newest first."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "List complete backups (id, type, base, time, size)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.ops.backup_models import Backup
        from guanxi.ops.backup_service import catalog_sync
        from guanxi.ops.management.commands.backup import backup_json

        catalog_sync()
        backups = list(Backup.objects.all())
        if options["json"]:
            self.stdout.write(json.dumps([backup_json(b) for b in backups]))
            return
        for b in backups:
            base = b.manifest.get("base_id") or "-"
            self.stdout.write(
                f"{b.backup_id}  {b.kind:<11}  {b.created_at.isoformat()}  {b.bytes:>12}  "
                f"base={base}"
            )
        if not backups:
            self.stdout.write("no backups")
