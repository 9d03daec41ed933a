"""``guanxi quality_sample [--rate 0.1]``: the monthly data-quality check.

Draws ``GUANXI_QUALITY_SAMPLE_RATE`` (default 10%) of the live customers at random into a new
check for data admins to verify (客户信息管理 → 数据质量) and notifies them. ``guanxi worker``
calls the same body, ``customers.quality.sample``, at 04:00 on the 1st of each month; run this
command by hand, or monthly from cron where no worker runs.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Sample customers into a new data-quality check."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rate", type=float, default=None, help="share to sample, 0–1")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.customers.quality import sample

        try:
            check = sample(options["rate"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if check is None:
            self.stdout.write("no customers to sample")
            return
        self.stdout.write(
            f"quality check #{check.pk}: {check.items.count()} of {check.population} customer(s)"
        )
