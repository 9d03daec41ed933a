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
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
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
