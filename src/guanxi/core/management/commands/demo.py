"""``guanxi demo``: migrate, then seed demo data once (idempotent) and print the logins."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate and seed the demo organisation, users and customers (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=2400)

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.accounts.models import User
        from guanxi.customers.demo_seed import seed_demo

        call_command("migrate", interactive=False, verbosity=0)
        creds_path = settings.DATA_DIR / "demo-credentials.json"
        if User.objects.filter(username="admin").exists() and creds_path.exists():
            credentials = json.loads(creds_path.read_text(encoding="utf-8"))
            self.stdout.write("Demo data already present.")
        else:
            credentials = {code: secrets.token_urlsafe(9) for code in _ROLE_USERS}
            seed_demo(
                credentials=credentials,
                customers=options["customers"],
                usernames=_ROLE_USERS,
                stdout=self.stdout,
            )
            self._seed_sales()
            fd = os.open(creds_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(credentials, fh, ensure_ascii=False, indent=1)
        self.stdout.write("Demo logins (username / password):")
        for code, username in _ROLE_USERS.items():
            self.stdout.write(f"  {username:<12} {credentials[code]:<16} ({code})")

    def _seed_sales(self) -> None:
        """Contracts and orders for the cooperating customers, then the 流失预警 job once."""
        from guanxi.accounts.models import User
        from guanxi.customers.churn import propose_churn
        from guanxi.sales.demo import seed_demo_sales

        contracts, orders = seed_demo_sales(actor=User.objects.get(username="admin"))
        proposed = propose_churn()
        self.stdout.write(
            f"Seeded {contracts} contracts and {orders} orders; {proposed} 流失预警 proposals."
        )


_ROLE_USERS = {
    "admin": "admin",
    "data_admin": "dataadmin",
    "sales_manager": "manager",
    "sales_rep": "sales",
    "service_rep": "service",
    "marketing": "marketing",
    "finance": "finance",
    "analyst": "analyst",
}
