"""``guanxi churn_review``: the daily 流失预警 job by hand.

Proposes every cooperating customer whose last contract or order ended more than
``churn_after_days`` (系统参数, default 90) ago, with nothing running since, as 流失 and
tells each owner; nothing changes status until someone confirms. ``guanxi worker`` runs the
same body, ``customers.churn.propose_churn``, daily at 03:15.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Propose cooperating customers whose business has ended as lost (流失)."

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.customers.churn import churn_after_days, propose_churn

        if churn_after_days() == 0:
            self.stdout.write("churn_after_days is 0: the 流失预警 rule is off")
            return
        self.stdout.write(f"{propose_churn()} customer(s) proposed as lost")
