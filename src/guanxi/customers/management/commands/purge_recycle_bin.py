"""``guanxi purge_recycle_bin``: the recycle bin's retention job.

Purges every customer that has been in the recycle bin for ``GUANXI_RECYCLE_BIN_DAYS`` days
or more (one audit entry each, no actor, reason "保留期满自动清除") and prints how many.
``guanxi worker`` runs the same job body, ``customers.recycle.purge_expired``, daily at 02:30
(``customers.tasks``); run this command by hand, or from cron where no worker runs. Safe to
run at any time and from several machines: rows are locked and re-checked before each purge.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Purge customers whose recycle-bin retention (GUANXI_RECYCLE_BIN_DAYS) has passed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.customers.recycle import purge_expired
        from guanxi.customers.recycle_selectors import retention_days

        days = retention_days()
        if days == 0:
            self.stdout.write("GUANXI_RECYCLE_BIN_DAYS is 0: nothing is purged automatically")
            return
        purged = purge_expired(batch_size=max(1, options["batch_size"]))
        self.stdout.write(f"purged {purged} customer(s) deleted {days}+ days ago")
