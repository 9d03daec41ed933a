"""``guanxi reports_tally --verify | --rebuild``: check or recount the report tallies.

``--verify`` compares every tally row with a fresh count of the rows it stands for and prints
each difference (exit status 1 when any, or when a trigger is missing); ``--rebuild``
reinstalls the triggers and recounts everything (after a bulk load made without triggers, or
after changing GUANXI_TIME_ZONE). ``guanxi worker`` verifies nightly and rebuilds on a mismatch.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Verify the report tallies against a fresh count, or rebuild them."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--verify", action="store_true", help="compare with a fresh count")
        group.add_argument("--rebuild", action="store_true", help="reinstall triggers, recount")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.reports import tally_admin

        started = time.monotonic()
        if options["rebuild"]:
            tally_admin.rebuild()
            self.stdout.write(f"rebuilt in {time.monotonic() - started:.1f} s")
            return
        result = tally_admin.verify()
        if result.triggers_missing:
            self.stdout.write("triggers missing: run --rebuild")
        for diff in result.differences[:200]:
            self.stdout.write(f"{diff.table} {diff.key}: tally {diff.tally}, fresh {diff.fresh}")
        self.stdout.write(
            f"checked {result.checked} keys, {len(result.differences)} differences "
            f"in {time.monotonic() - started:.1f} s"
        )
        if not result.ok:
            sys.exit(1)
