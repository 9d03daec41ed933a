"""The minute tick: claim due jobs exactly once across workers, run them, record the runs.

Every ``guanxi worker`` ticks each minute. A tick reads the enabled jobs and, for each one due,
issues ``UPDATE ... SET next_run_at = <following> WHERE id = .. AND next_run_at = <value read>``:
the database lets exactly one of the competing workers change the row, and only that worker
runs the period. Retries are claimed the same way on ``retry_at``. Nothing is held in memory
between ticks, so workers on several machines coordinate through the database alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback
from dataclasses import dataclass

from django.utils import timezone

from guanxi.core.request_memo import memo_scope
from guanxi.core.worker import run_job
from guanxi.ops.job_models import JobRun, JobStatus, ScheduledJob, WorkerHeartbeat
from guanxi.ops.schedule import JobSpec, next_run, registered_jobs

logger = logging.getLogger("guanxi.worker")
RESULT_CHARS = 2000
MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Claim:
    """A period (or retry) of one job that this worker won and must run."""

    job_id: int
    scheduled_for: dt.datetime
    attempt: int = 1


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def sync_registry(specs: dict[str, JobSpec]) -> None:
    """Create the rows of newly registered jobs with their default schedules."""
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    for name, spec in specs.items():
        if name not in known:
            ScheduledJob.objects.get_or_create(
                name=name,
                defaults={
                    "title": str(spec.title),
                    "cron": spec.cron,
                    "max_retries": spec.retries,
                    "retry_delay_seconds": spec.retry_delay,
                },
            )


def backoff_seconds(job: ScheduledJob, failures: int) -> int:
    """Exponential: the first retry after ``retry_delay_seconds``, then twice as long each
    time, capped at six hours."""
    return min(job.retry_delay_seconds * 2 ** max(failures - 1, 0), MAX_BACKOFF_SECONDS)


def claim_due(now: dt.datetime | None = None) -> list[Claim]:
    """Claim every due period and retry; each UPDATE succeeds for exactly one worker."""
    now = now or timezone.now()
    claims = []
    for job in ScheduledJob.objects.filter(enabled=True):
        rows = ScheduledJob.objects.filter(pk=job.pk)
        if job.next_run_at is None:  # new or re-enabled: schedule, do not run at once
            rows.filter(next_run_at__isnull=True).update(next_run_at=next_run(job.cron, now))
        elif job.next_run_at <= now:
            won = rows.filter(next_run_at=job.next_run_at).update(
                next_run_at=next_run(job.cron, now),
                retry_at=None,
                failures=0,
                last_status=JobStatus.RUNNING,
                last_run_at=now,
            )
            if won:
                claims.append(Claim(job.pk, job.next_run_at, 1))
        elif job.retry_at is not None and job.retry_at <= now:
            won = rows.filter(retry_at=job.retry_at).update(
                retry_at=None, last_status=JobStatus.RUNNING, last_run_at=now
            )
            if won:
                claims.append(Claim(job.pk, job.retry_at, job.failures + 1))
    return claims


def tick(now: dt.datetime | None = None) -> int:
    """One worker's minute: heartbeat, new jobs, then run what it claimed. Returns the count."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker=worker_id(), defaults={"seen_at": now})
    sync_registry(registered_jobs())
    claims = claim_due(now)
    for claim in claims:
        execute(claim)
    return len(claims)


def execute(claim: Claim, *, manual: bool = False) -> JobRun:
    """Run one claimed period: a JobRun row, the body through ``run_job``, then the outcome
    on the job (success, a retry with backoff, or final failure: audited and announced)."""
    job = ScheduledJob.objects.get(pk=claim.job_id)
    run = JobRun.objects.create(
        job=job,
        scheduled_for=claim.scheduled_for,
        attempt=claim.attempt,
        manual=manual,
        started_at=timezone.now(),
        status=JobStatus.RUNNING,
        worker=worker_id(),
    )
    spec = registered_jobs().get(job.name)
    try:
        if spec is None:
            raise LookupError(f"job {job.name!r} is not registered by any app")
        with memo_scope():
            result = run_job(job.name, spec.body)
    except Exception as exc:  # a job's failure is recorded, never lost in the worker
        _record_failure(job, run, claim, exc, manual=manual)
    else:
        _record_success(job, run, result)
    return run


def _record_success(job: ScheduledJob, run: JobRun, result: object) -> None:
    text = "" if result is None else str(result)[:RESULT_CHARS]
    run.status, run.result, run.finished_at = JobStatus.SUCCESS, text, timezone.now()
    run.save(update_fields=["status", "result", "finished_at"])
    ScheduledJob.objects.filter(pk=job.pk).update(
        last_status=JobStatus.SUCCESS, last_result=text, failures=0, retry_at=None
    )


def _record_failure(
    job: ScheduledJob, run: JobRun, claim: Claim, exc: Exception, *, manual: bool
) -> None:
    from guanxi.ops.job_failures import announce_final_failure, audit_failure

    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:RESULT_CHARS]
    run.status, run.finished_at = JobStatus.FAILED, timezone.now()
    run.error = traceback.format_exc()[-8000:]
    run.save(update_fields=["status", "error", "finished_at"])
    final = manual or claim.attempt > job.max_retries
    changes: dict[str, object] = {"last_result": error, "failures": claim.attempt}
    if final:
        changes.update(last_status=JobStatus.FAILED, retry_at=None)
    else:
        delay = backoff_seconds(job, claim.attempt)
        changes.update(
            last_status=JobStatus.RETRYING,
            retry_at=run.finished_at + dt.timedelta(seconds=delay),
        )
    if manual:
        changes.pop("failures")
    ScheduledJob.objects.filter(pk=job.pk).update(**changes)
    audit_failure(job, run, error=error, final=final)
    if final:
        announce_final_failure(job, error)
