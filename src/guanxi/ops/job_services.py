"""Administrators' writes to the job schedule: edit a job, run it now (both audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.permissions import require_perm
from guanxi.ops.job_models import ScheduledJob
from guanxi.ops.schedule import next_run, validate_cron

PERM = "ops.manage_system"
EDITABLE = ("enabled", "cron", "max_retries", "retry_delay_seconds")


@audited_refusals("job.update", target="job")
def job_update(
    *, actor: Any, job: ScheduledJob, data: dict[str, Any], meta: RequestMeta | None = None
) -> ScheduledJob:
    """Change a job's schedule or retry policy; the next run follows the new cron at once."""
    require_perm(actor, PERM)
    values = {key: data[key] for key in EDITABLE if key in data and data[key] is not None}
    if "cron" in values:
        values["cron"] = validate_cron(values["cron"])
    with transaction.atomic():
        job = ScheduledJob.objects.select_for_update().get(pk=job.pk)
        before = {key: getattr(job, key) for key in values}
        changed = {k: [before[k], v] for k, v in values.items() if before[k] != v}
        for key, value in values.items():
            setattr(job, key, value)
        if "cron" in changed or "enabled" in changed:
            job.next_run_at = next_run(job.cron, timezone.now()) if job.enabled else None
            job.retry_at = None
        job.save()
        if changed:
            audit_record(actor=actor, action="job.update", obj=job, changes=changed, meta=meta)
    return job


@audited_refusals("job.run_now", target="job")
def job_run_now(*, actor: Any, job: ScheduledJob, meta: RequestMeta | None = None) -> None:
    """Queue one manual run for the worker (tests and immediate mode run it inline)."""
    require_perm(actor, PERM)
    audit_record(actor=actor, action="job.run_now", obj=job, meta=meta)
    from guanxi.ops.tasks import run_job_now_task

    transaction.on_commit(lambda: run_job_now_task(job.pk))
