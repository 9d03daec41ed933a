"""Periodic jobs of the workflow app, run by ``guanxi worker`` on the schedule kept in
系统设置 → 定时任务 (the bodies live in workflow.reminders and workflow.digest and take ``now``
for tests)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.ops.schedule import scheduled_job


@scheduled_job("reminders", title=_("提醒检查"), cron="*/15 * * * *", retries=2, retry_delay=120)
def reminders_job() -> dict[str, int]:
    """Every 15 minutes: evaluate the reminder rules (exactly once per rule and period)."""
    from guanxi.workflow.reminders import run_reminders

    return run_reminders()


@scheduled_job(
    "daily_digest", title=_("每日摘要邮件"), cron="0 8 * * *", retries=3, retry_delay=300
)
def daily_digest_job() -> int:
    """08:00 every day: each user's digest e-mail (once per user and day, so retries are safe)."""
    from guanxi.workflow.digest import send_daily_digests

    return send_daily_digests()
