"""Periodic jobs of the workflow app, run by ``guanxi worker`` (thin wrappers: the bodies
live in workflow.reminders and workflow.digest and take ``now`` for tests)."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from guanxi.core.worker import local_crontab, run_job


@db_periodic_task(local_crontab(minute="*/15"), retries=2, retry_delay=120, name="reminders")
def reminders_job() -> dict[str, int]:
    """Every 15 minutes: evaluate the reminder rules (exactly once per rule and period)."""
    from guanxi.workflow.reminders import run_reminders

    return run_job("reminders", run_reminders)


@db_periodic_task(
    local_crontab(minute="0", hour="8"), retries=3, retry_delay=300, name="daily_digest"
)
def daily_digest_job() -> int:
    """08:00 every day: each user's digest e-mail (once per user and day, so retries are safe)."""
    from guanxi.workflow.digest import send_daily_digests

    return run_job("daily_digest", send_daily_digests)
