"""The job schedule as data: claiming a period exactly once, retries with backoff, final
failure audited and announced, new registrations seeded, and the converted jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.ops import schedule, scheduler
from guanxi.ops.job_models import JobRun, JobStatus, ScheduledJob, WorkerHeartbeat
from guanxi.workflow.models import Notification

pytestmark = pytest.mark.django_db
UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
YEARLY = "0 0 1 1 *"


@pytest.fixture
def probe_job(monkeypatch):
    """A registered job whose body the test controls (returns or raises what ``calls`` holds)."""
    outcomes: list[object] = []

    def body():
        outcome = outcomes.pop(0) if outcomes else "done"
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    spec = schedule.JobSpec("probe", "探针任务", "0 * * * *", body, retries=2, retry_delay=60)
    monkeypatch.setitem(schedule._REGISTRY, "probe", spec)
    ScheduledJob.objects.exclude(name="probe").update(enabled=False)
    scheduler.sync_registry({"probe": spec})
    job = ScheduledJob.objects.get(name="probe")
    return job, outcomes


def test_seeded_jobs_keep_their_former_schedules():
    jobs = dict(ScheduledJob.objects.values_list("name", "cron"))
    assert jobs["reminders"] == "*/15 * * * *"
    assert jobs["daily_digest"] == "0 8 * * *"
    assert jobs["purge_recycle_bin"] == "30 2 * * *"
    assert jobs["quality_sample"] == "0 4 1 * *"
    assert ScheduledJob.objects.get(name="quality_sample").max_retries == 0


def test_cron_is_read_in_the_local_time_zone():
    after = dt.datetime(2026, 11, 24, 7, 59, tzinfo=SHANGHAI)
    assert schedule.next_run("0 8 * * *", after) == dt.datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as exc:
        schedule.validate_cron("61 * * * *")
    assert "Cron" in str(exc.value)
    assert schedule.validate_cron(" 30  2 * * * ") == "30 2 * * *"
    for bad in ("", "* * * *", "* * * * * *", "every day"):
        with pytest.raises(ValidationError):
            schedule.validate_cron(bad)


def test_a_new_job_is_scheduled_first_not_run(probe_job):
    job, _ = probe_job
    now = dt.datetime(2026, 11, 24, 10, 20, tzinfo=UTC)
    assert scheduler.claim_due(now) == []
    job.refresh_from_db()
    assert job.next_run_at == dt.datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def test_a_due_period_is_claimed_exactly_once(probe_job):
    job, _ = probe_job
    due = dt.datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    ScheduledJob.objects.filter(pk=job.pk).update(next_run_at=due)
    now = due + dt.timedelta(seconds=5)
    first = scheduler.claim_due(now)
    second = scheduler.claim_due(now)  # another worker, same minute
    assert first == [scheduler.Claim(job.pk, due, 1)] and second == []
    job.refresh_from_db()
    assert job.next_run_at == due + dt.timedelta(hours=1)
    assert job.last_status == JobStatus.RUNNING


def test_a_worker_with_a_stale_read_loses_the_race(probe_job, monkeypatch):
    """Two workers read the row before either updates it: the conditional UPDATE lets one win."""
    job, _ = probe_job
    due = dt.datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    ScheduledJob.objects.filter(pk=job.pk).update(next_run_at=due)
    stale = list(ScheduledJob.objects.filter(enabled=True))  # what worker B read
    assert len(scheduler.claim_due(due)) == 1  # worker A wins
    manager = type(ScheduledJob.objects)
    original = manager.filter

    def filter_returning_stale(self, *args, **kwargs):
        if kwargs == {"enabled": True}:
            return stale
        return original(self, *args, **kwargs)

    monkeypatch.setattr(manager, "filter", filter_returning_stale)
    assert scheduler.claim_due(due) == []  # worker B's UPDATE matches no row
    monkeypatch.undo()
    assert scheduler.claim_due(due) == []


def test_tick_runs_claimed_jobs_records_runs_and_heartbeat(probe_job):
    job, outcomes = probe_job
    outcomes.append({"purged": 3})
    ScheduledJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now())
    assert scheduler.tick() == 1
    run = JobRun.objects.get(job=job)
    assert run.status == JobStatus.SUCCESS and run.result == "{'purged': 3}"
    assert run.finished_at >= run.started_at and run.attempt == 1 and not run.manual
    job.refresh_from_db()
    assert job.last_status == JobStatus.SUCCESS and job.last_result == "{'purged': 3}"
    assert WorkerHeartbeat.objects.filter(worker=scheduler.worker_id()).exists()
    assert scheduler.tick() == 0  # not due again until the next hour


def test_failures_retry_with_exponential_backoff_then_give_up(probe_job, org):
    job, outcomes = probe_job
    outcomes.extend([RuntimeError("disk full")] * 3)
    start = timezone.now()
    # Retry times follow the real clock; a yearly period keeps the next hour's run out of
    # the retries' window when the test runs just before the hour.
    ScheduledJob.objects.filter(pk=job.pk).update(next_run_at=start, cron=YEARLY)
    scheduler.tick(start)
    job.refresh_from_db()
    assert job.last_status == JobStatus.RETRYING and job.failures == 1
    first_delay = (job.retry_at - start).total_seconds()
    assert 60 <= first_delay < 70
    assert "disk full" in job.last_result

    scheduler.tick(job.retry_at)  # the first retry fails: next one twice as late
    job.refresh_from_db()
    assert job.failures == 2 and job.last_status == JobStatus.RETRYING
    run2 = JobRun.objects.filter(job=job).order_by("-pk").first()
    assert run2.attempt == 2
    assert 120 <= (job.retry_at - run2.finished_at).total_seconds() < 121

    assert Notification.objects.filter(kind="job_failed").count() == 0
    scheduler.tick(job.retry_at)  # attempt 3 = retries spent
    job.refresh_from_db()
    assert job.last_status == JobStatus.FAILED and job.retry_at is None and job.failures == 3
    assert (
        list(JobRun.objects.filter(job=job).values_list("status", flat=True))
        == [JobStatus.FAILED] * 3
    )
    entries = AuditEntry.objects.filter(action="job.failed", object_id=str(job.pk))
    assert entries.count() == 3
    assert entries.order_by("-pk").first().params["final"] is True
    notified = Notification.objects.filter(kind="job_failed")
    assert notified.filter(recipient=org["admin"]).count() == 1
    assert not notified.filter(recipient=org["rep_a"]).exists()


def test_a_retry_that_succeeds_resets_the_failures(probe_job):
    job, outcomes = probe_job
    outcomes.extend([RuntimeError("flaky"), "ok"])
    start = timezone.now()
    # Retry times follow the real clock; a yearly period keeps the next hour's run out of
    # the retries' window when the test runs just before the hour.
    ScheduledJob.objects.filter(pk=job.pk).update(next_run_at=start, cron=YEARLY)
    scheduler.tick(start)
    job.refresh_from_db()
    scheduler.tick(job.retry_at)
    job.refresh_from_db()
    assert job.last_status == JobStatus.SUCCESS and job.failures == 0 and job.retry_at is None


def test_backoff_is_capped():
    job = ScheduledJob(retry_delay_seconds=600)
    assert [scheduler.backoff_seconds(job, n) for n in (1, 2, 3)] == [600, 1200, 2400]
    assert scheduler.backoff_seconds(job, 30) == scheduler.MAX_BACKOFF_SECONDS


def test_disabled_jobs_are_not_claimed(probe_job):
    job, _ = probe_job
    ScheduledJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now(), enabled=False)
    assert scheduler.tick() == 0 and not JobRun.objects.exists()


def test_unregistered_job_fails_visibly():
    job = ScheduledJob.objects.create(name="gone", title="已删除的任务", cron="* * * * *")
    run = scheduler.execute(scheduler.Claim(job.pk, timezone.now()), manual=True)
    assert run.status == JobStatus.FAILED and "not registered" in run.error


def test_registered_jobs_of_every_app_are_known():
    names = set(schedule.registered_jobs())
    assert {"reminders", "daily_digest", "purge_exports", "tag_rules"} <= names
    assert {"reports_tally_verify", "report_schedules", "backup_full"} <= names
    ScheduledJob.objects.filter(name="purge_exports").delete()
    scheduler.sync_registry(schedule.registered_jobs())
    assert ScheduledJob.objects.get(name="purge_exports").cron == "15 3 * * *"
