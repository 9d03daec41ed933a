"""``guanxi backup [--full|--incremental] [--json]``: take a backup now.

Without a flag an incremental is taken, which becomes a full one when there is no usable base
(no backup yet, or the schema changed since). With ``--json`` the last line is
``{"id", "type", "base_id", "created_at", "bytes", "seconds"}`` for scripts.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def backup_json(backup: Any) -> dict[str, Any]:
    return {
        "id": backup.backup_id,
        "type": backup.kind,
        "base_id": backup.manifest.get("base_id"),
        "created_at": backup.created_at.isoformat(),
        "bytes": backup.bytes,
        "seconds": backup.seconds,
    }


class Command(BaseCommand):
    help = "Take a full or incremental backup (database and media), encrypted, with a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--full", action="store_true")
        kind.add_argument("--incremental", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.ops.backup_service import backup_create

        backup = backup_create(kind="full" if options["full"] else "incremental")
        if options["json"]:
            self.stdout.write(json.dumps(backup_json(backup)))
            return
        self.stdout.write(
            f"{backup.kind} backup {backup.backup_id}: {backup.bytes} bytes in "
            f"{backup.seconds:.1f}s" + (f", off-site: {backup.offsite}" if backup.offsite else "")
        )
