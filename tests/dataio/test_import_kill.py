"""A 100,000-row import killed with SIGKILL mid-run: only whole chunks are in the database,
each counted by the batch's checkpoint, and a resume ends with exactly the file's rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from django.db import connection

from guanxi.customers.models import Customer
from guanxi.dataio.models import ImportBatch, ImportStatus

from .import_support import TEMPLATE_HEADERS, write_csv

ROWS = 100_000


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{db['USER']}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def _rows():
    yield TEMPLATE_HEADERS
    for n in range(ROWS):
        yield [
            f"断电测试{n:06d}贸易有限公司",
            "企业客户",
            "批发和零售业",
            f"联系人{n % 97}",
            "经理",
            f"13{n % 10}{n:08d}",
            "",
            "展会",
            "",
            "广东省深圳市南山区科技园",
            "",
        ]


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state first, then the parent id)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()


def _children(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == parent:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads processes from /proc")
@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_import_then_resume(org, tmp_path, settings):
    path = write_csv(tmp_path / "big.csv", list(_rows()))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "GUANXI_DATA_DIR": str(settings.DATA_DIR),
        "GUANXI_WORKER_IMMEDIATE": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guanxi.cli",
            "import",
            "customers",
            str(path),
            "--as",
            org["data_admin"].username,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    batch = None
    try:
        while time.monotonic() < deadline:
            batch = ImportBatch.objects.order_by("-id").first()
            if batch is not None and batch.rows_done >= 10_000:
                break
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.05)
        else:
            pytest.fail("the import did not get going in time")
        helpers = _children(proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # The cleaning helper (dataio.clean_helper) ends with the import it served.
    assert helpers, "the import ran without its helper process"
    deadline = time.monotonic() + 10
    while [p for p in helpers if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in helpers if _alive(p)], "the helper outlived the killed import"
    batch.refresh_from_db()
    assert batch.status == ImportStatus.RUNNING and batch.rows_done < ROWS
    written = Customer.objects.filter(import_batch=batch).count()
    # Only whole chunks, exactly those the checkpoint counts.
    assert written == batch.created_count == batch.rows_done
    assert written % settings.GUANXI_IMPORT_CHUNK_ROWS == 0

    settings.GUANXI_IMPORT_STALE_SECONDS = 0  # the dead run's heartbeat is old enough
    call_command(
        "import", "customers", "--resume", str(batch.pk), "--as", org["data_admin"].username
    )
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert (batch.rows_done, batch.created_count, batch.error_count) == (ROWS, ROWS, 0)
    assert Customer.objects.filter(import_batch=batch).count() == ROWS
    assert Customer.objects.values("name").distinct().count() == ROWS
