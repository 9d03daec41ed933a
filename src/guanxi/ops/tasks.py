"""The worker's side of the job schedule: the minute tick and the 立即运行 task.

The tick is the only huey periodic task the schedule needs; the job bodies are registered
with ``guanxi.ops.schedule.scheduled_job`` and their schedules live in ``ScheduledJob`` rows.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_periodic_task(crontab(minute="*"), name="ops_tick")
def ops_tick() -> int:
    """Every minute, in every worker: heartbeat, then claim and run the due jobs."""
    from guanxi.ops.scheduler import tick

    return tick()


@db_task(name="ops_run_job_now")
def run_job_now_task(job_id: int) -> str:
    """An administrator's 立即运行: one manual run outside the schedule (no retries)."""
    from django.utils import timezone

    from guanxi.ops.scheduler import Claim, execute

    return execute(Claim(job_id, timezone.now()), manual=True).status


# The backup jobs register themselves with the schedule when their module is imported.
from guanxi.ops import backup_tasks  # noqa: E402, F401
