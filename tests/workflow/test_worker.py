"""The background worker: huey storage from settings, the periodic jobs and their local-time
crontabs, job failures logged, and ``guanxi worker`` starting and stopping for real."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huey.contrib.djhuey import HUEY

import guanxi.customers.tasks as customer_tasks
import guanxi.workflow.tasks as workflow_tasks
from guanxi.core.worker import huey_settings, local_crontab
from guanxi.workflow.models import Reminder

UTC = dt.UTC
EXPECTED_JOBS = {
    "reminders",
    "daily_digest",
    "purge_recycle_bin",
    "retention_review",
    "quality_sample",
    "tag_rules",
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        GUANXI_DATA_DIR=str(tmp_path), GUANXI_WORKER_IMMEDIATE="0", PYTHONUNBUFFERED="1", **extra
    )
    return env


def _huey_in_subprocess(tmp_path: Path, **extra: str) -> list[str]:
    code = (
        "import django; django.setup(); from huey.contrib.djhuey import HUEY; "
        "print(type(HUEY).__name__, HUEY.immediate, getattr(HUEY.storage, 'filename', '-'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**_env(tmp_path, **extra), "DJANGO_SETTINGS_MODULE": "guanxi.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.split()


def test_sqlite_huey_by_default_redis_huey_with_redis_url(tmp_path):
    kind, immediate, filename = _huey_in_subprocess(tmp_path)
    assert (kind, immediate) == ("SqliteHuey", "False")
    assert filename == str(tmp_path / "huey.sqlite3")
    kind, immediate, _ = _huey_in_subprocess(tmp_path, REDIS_URL="redis://127.0.0.1:6399/3")
    assert (kind, immediate) == ("RedisHuey", "False")


def test_settings_builder_and_immediate_mode_under_tests(tmp_path):
    config = huey_settings(redis_url="", data_dir=tmp_path, immediate=True)
    assert config["huey_class"] == "huey.SqliteHuey" and config["utc"] is True
    redis = huey_settings(redis_url="redis://r:6379/0", data_dir=tmp_path, immediate=False)
    assert redis["connection"] == {"url": "redis://r:6379/0"}
    assert HUEY.immediate  # enqueued tasks run inline in the test process


def _scheduled() -> dict[str, object]:
    from guanxi.ops.schedule import registered_jobs

    return registered_jobs()


def _fires(job: str, shanghai: dt.datetime) -> bool:
    """Whether ``job``'s default schedule (系统设置 → 定时任务) fires at a Shanghai wall-clock
    time: the next run after the minute before is that very minute."""
    from guanxi.ops.schedule import next_run

    at = shanghai.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return next_run(_scheduled()[job].cron, at - dt.timedelta(minutes=1)) == at


def test_periodic_jobs_are_registered_with_local_crontabs():
    assert set(_scheduled()) >= EXPECTED_JOBS
    day = dt.datetime(2026, 11, 24)
    assert _fires("daily_digest", day.replace(hour=8))
    assert not _fires("daily_digest", day.replace(hour=16))  # 08:00 UTC is not 08:00 here
    assert [m for m in range(60) if _fires("reminders", day.replace(minute=m))] == [0, 15, 30, 45]
    assert _fires("purge_recycle_bin", day.replace(hour=2, minute=30))
    assert _fires("retention_review", day.replace(hour=3))
    assert _fires("tag_rules", day.replace(hour=1, minute=30))
    assert _fires("quality_sample", dt.datetime(2026, 12, 1, 4))
    assert not _fires("quality_sample", dt.datetime(2026, 12, 2, 4))
    jobs = _scheduled()
    assert (jobs["reminders"].retries, jobs["reminders"].retry_delay) == (2, 120)
    assert jobs["daily_digest"].retries == 3
    assert jobs["quality_sample"].retries == 0  # each run draws a new sample: never repeated


def test_local_crontab_accepts_aware_and_keeps_fields():
    check = local_crontab(minute="0", hour="8")
    assert check.fields == {"minute": "0", "hour": "8"}
    assert check(dt.datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    assert check(dt.datetime(2026, 11, 24, 0, 0))  # naive means UTC, as huey hands it


@pytest.mark.django_db
def test_wrappers_run_the_job_bodies(org, make_customer, monkeypatch):
    """Immediate mode: calling a task wrapper runs its body inline (periodic tasks keep no
    result, so ``call_local`` shows what the body returned)."""
    from django.utils import timezone

    customer = make_customer(org["rep_a"])
    customer.__class__.objects.filter(pk=customer.pk).update(next_follow_up_at=timezone.now())
    workflow_tasks.reminders_job()
    assert Reminder.objects.filter(rule="followup_due").count() == 1
    assert workflow_tasks.reminders_job.call_local()["followup_due"] == 0
    assert workflow_tasks.daily_digest_job.call_local() == 0
    assert customer_tasks.purge_recycle_bin_job.call_local() == 0
    assert customer_tasks.retention_review_job.call_local() is None
    called = []
    fake = type(sys)("guanxi.customers.tag_rules")
    fake.evaluate_all = lambda: called.append(True) or 7
    monkeypatch.setitem(sys.modules, "guanxi.customers.tag_rules", fake)
    assert customer_tasks.tag_rules_job.call_local() == 7 and called == [True]


@pytest.mark.django_db
def test_a_failing_job_is_logged(monkeypatch, caplog):
    def broken(now=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr("guanxi.workflow.reminders.run_reminders", broken)
    with caplog.at_level("INFO", logger="guanxi.worker"):
        with pytest.raises(RuntimeError):
            workflow_tasks.reminders_job.call_local()
        workflow_tasks.reminders_job()  # through huey: logged, retried later, not raised here
    assert "job reminders started" in caplog.text
    assert caplog.text.count("job reminders failed") == 2 and "database went away" in caplog.text


def _guanxi() -> str:
    return str(Path(sys.executable).with_name("guanxi"))


def test_worker_command_starts_and_stops(tmp_path):
    process = subprocess.Popen(
        [_guanxi(), "worker", "--workers", "1"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "The following commands are available" in line:
                time.sleep(1.5)  # the consumer sets its signal handlers right after
                break
        log = "".join(lines)
        assert "guanxi worker starting: SqliteHuey, 1 thread worker(s)" in log
        assert "reminders" in log and "daily_digest" in log
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Shutting down gracefully" in rest
    assert (tmp_path / "huey.sqlite3").exists()


def test_worker_command_refuses_bad_options(tmp_path):
    bad = subprocess.run(
        [_guanxi(), "worker", "--workers", "0"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "--workers must be at least 1" in bad.stderr
    inline = subprocess.run(
        [_guanxi(), "worker"],
        env={**_env(tmp_path), "GUANXI_WORKER_IMMEDIATE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert inline.returncode != 0 and "GUANXI_WORKER_IMMEDIATE" in inline.stderr
