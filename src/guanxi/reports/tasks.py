"""Periodic jobs of the reports app, run by ``guanxi worker`` on the schedule under 定时任务."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.ops.schedule import scheduled_job


@scheduled_job(
    "reports_tally_verify", title=_("报表汇总校验"), cron="15 4 * * *", retries=1, retry_delay=600
)
def reports_tally_verify_job() -> Any:
    """04:15 daily: compare the report tallies with a fresh count; on any difference log
    it and rebuild them (``guanxi reports_tally --verify`` does the same by hand)."""
    from guanxi.reports.tally_admin import verify_and_repair

    return verify_and_repair()


# Scheduled reports (定时报表): registered by importing their module.
from guanxi.reports.schedule_tasks import report_schedules_job  # noqa: E402, F401
