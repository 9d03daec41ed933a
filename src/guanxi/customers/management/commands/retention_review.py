"""``guanxi retention_review``: the daily retention job (PIPL).

Puts every 流失 customer with no activity for ``GUANXI_RETENTION_LOST_DAYS`` on a purge list
and notifies the privacy officers, unless a list is still waiting for a decision; nothing is
erased until a data admin approves the list. ``guanxi worker`` runs the same job body,
``customers.privacy.build_retention_list``, daily at 03:00; run this command by hand, or daily
from cron where no worker runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Put customers past the retention rule on a purge list for approval."

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.customers.models import RetentionList, RetentionStatus
        from guanxi.customers.privacy import build_retention_list, retention_idle_days

        if retention_idle_days() == 0:
            self.stdout.write("GUANXI_RETENTION_LOST_DAYS is 0: the retention rule is off")
            return
        created = build_retention_list()
        if created is not None:
            count = created.candidates.count()
            self.stdout.write(f"purge list #{created.pk}: {count} customer(s) await approval")
        elif RetentionList.objects.filter(status=RetentionStatus.PENDING).exists():
            self.stdout.write("a purge list is still waiting for a decision: none created")
        else:
            self.stdout.write("no customer is past the retention rule")
