"""Two real ``guanxi worker`` processes against one database: a due job runs exactly once
per period. Each worker has its own data dir (its own huey queue, as on two machines); the
database is a shared SQLite file, or a PostgreSQL database when the suite runs on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

JOB = "purge_recycle_bin"  # harmless on an empty database: purges nothing, returns 0
WAIT_SECONDS = 150  # huey ticks at minute boundaries


def _guanxi() -> str:
    return str(Path(sys.executable).with_name("guanxi"))


def _pg_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[tuple[str, object]]:
    """(DATABASE_URL, a function running one SQL query and returning its rows)."""
    pg = _pg_url()
    if pg is None:
        path = tmp_path / "shared.sqlite3"

        def query(sql: str) -> list[tuple]:
            with sqlite3.connect(path, timeout=20) as conn:
                return conn.execute(sql).fetchall()

        yield f"sqlite:///{path}", query
        return
    import psycopg

    base, _, name = pg.rpartition("/")
    name = f"test_{name or 'guanxi'}_workers"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def query(sql: str) -> list[tuple]:
        with psycopg.connect(f"{base}/{name}") as conn:
            return conn.execute(sql).fetchall()

    try:
        yield f"{base}/{name}", query
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        GUANXI_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        GUANXI_WORKER_IMMEDIATE="0",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="guanxi.settings",
    )
    return env


def _make_due(env: dict[str, str]) -> None:
    """Only the probe job enabled, due a few seconds ago (through the models, any database)."""
    code = (
        "import django, datetime as dt; django.setup();"
        "from django.utils import timezone; from guanxi.ops.models import ScheduledJob;"
        f"ScheduledJob.objects.exclude(name={JOB!r}).update(enabled=False);"
        f"ScheduledJob.objects.filter(name={JOB!r}).update(enabled=True,"
        " next_run_at=timezone.now() - dt.timedelta(seconds=5))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_workers_run_a_due_job_once_per_period(tmp_path, shared_database):
    database_url, query = shared_database
    dirs = [tmp_path / "worker-a", tmp_path / "worker-b"]
    env_a, env_b = (_env(d, database_url) for d in dirs)
    subprocess.run([_guanxi(), "migrate", "--noinput", "-v", "0"], env=env_a, check=True)
    shutil.copytree(dirs[0] / "keys", dirs[1] / "keys")  # the same keys, as in a real cluster
    _make_due(env_a)
    runs_sql = (
        "SELECT r.status FROM ops_jobrun r JOIN ops_scheduledjob j ON j.id = r.job_id "
        f"WHERE j.name = '{JOB}'"
    )
    beats_sql = "SELECT worker, seen_at FROM ops_workerheartbeat"
    workers = []
    try:
        for data_dir, env in zip(dirs, (env_a, env_b), strict=True):
            log = open(data_dir / "worker.log", "w")  # noqa: SIM115 - closed with the process
            workers.append(
                (
                    subprocess.Popen(
                        [_guanxi(), "worker", "--workers", "1"],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
            )
        # Period 1: both workers tick after the job fell due; exactly one runs it.
        _wait(lambda: len(query(beats_sql)) == 2 and query(runs_sql), "both ticks and a run")
        time.sleep(3)
        assert [status for (status,) in query(runs_sql)] == ["success"]
        first_beats = dict(query(beats_sql))

        # Period 2: due again; after both workers tick once more, exactly one more run.
        _make_due(env_a)
        _wait(
            lambda: (
                all(seen != first_beats.get(worker) for worker, seen in query(beats_sql))
                and len(query(runs_sql)) >= 2
            ),
            "the next ticks of both workers",
        )
        time.sleep(3)
        assert [status for (status,) in query(runs_sql)] == ["success", "success"]
        assert len(query(beats_sql)) == 2
    finally:
        for process, log in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
