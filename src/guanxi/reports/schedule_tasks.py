"""The worker job that sends scheduled reports (registered from ``reports.tasks``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.ops.schedule import scheduled_job


# No retries: a run that failed half-way has already moved the schedule on and recorded each
# recipient's outcome; a retry would mail the ones already served a second time.
@scheduled_job("report_schedules", title=_("定时报表发送"), cron="*/5 * * * *", retries=0)
def report_schedules_job() -> int:
    """Every 5 minutes: send each enabled scheduled report whose time has come."""
    from guanxi.reports.schedule_delivery import run_due_schedules

    return run_due_schedules()
