"""``guanxi upgrade``: back up, apply migrations, and say how to go back.

Run it after installing the new version, with the worker and web processes stopped.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Take a full backup, apply database migrations, print the rollback steps."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--yes", action="store_true", help="no confirmation prompt")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        from guanxi.ops.backup_models import BackupTrigger
        from guanxi.ops.backup_service import backup_create

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        self.stdout.write(f"{len(plan)} migration(s) to apply")
        backup = backup_create(kind="full", trigger=BackupTrigger.UPGRADE)
        self.stdout.write(f"backup before upgrade: {backup.backup_id} ({backup.bytes} bytes)")
        call_command("migrate", interactive=False, verbosity=1, stdout=self.stdout)
        self.stdout.write(
            f"\nupgrade done (version {settings.VERSION}). To roll back:\n"
            "  1. stop `guanxi serve` and `guanxi worker`\n"
            "  2. reinstall the previous version of guanxi\n"
            f"  3. guanxi restore {backup.backup_id} --yes\n"
            "  4. start the services again"
        )
