"""The backup commands, including a real ``guanxi backup`` killed midway with SIGKILL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from guanxi.customers.models import Customer
from guanxi.ops.backup_models import Backup

pytestmark = pytest.mark.django_db(transaction=True)
GUANXI = str(Path(sys.executable).with_name("guanxi"))


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_backup_json_list_restore_and_upgrade(
    org: dict[str, Any], make_customer: Any, backup_dirs: dict[str, Path], monkeypatch: Any
) -> None:
    make_customer(org["rep_a"], name="命令行客户")
    first = json.loads(run("backup", "--json").strip().splitlines()[-1])
    assert set(first) == {"id", "type", "base_id", "created_at", "bytes", "seconds"}
    assert (first["type"], first["base_id"]) == ("full", None)  # no base yet: full
    make_customer(org["rep_a"], name="之后的客户")
    second = json.loads(run("backup", "--incremental", "--json").splitlines()[-1])
    assert (second["type"], second["base_id"]) == ("incremental", first["id"])
    listed = json.loads(run("backups", "--json"))
    assert [b["id"] for b in listed] == [second["id"], first["id"]]

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="not confirmed"):
        run("restore", first["id"])
    assert Customer.objects.count() == 2
    out = run("restore", first["id"], "--yes")
    assert "与清单一致" in out
    assert list(Customer.objects.values_list("name", flat=True)) == ["命令行客户"]

    upgraded = run("upgrade", "--yes")
    assert "guanxi restore" in upgraded
    assert Backup.objects.filter(trigger="upgrade", kind="full").count() == 1


def test_killed_backup_is_never_listed_and_the_next_run_succeeds(
    org: dict[str, Any], make_customer: Any, tmp_path: Path
) -> None:
    make_customer(org["rep_a"])
    data_dir = tmp_path / "data"
    (data_dir / "media").mkdir(parents=True)
    # Enough incompressible media that the archive takes a moment to write.
    (data_dir / "media" / "big.bin").write_bytes(os.urandom(96 * 1024 * 1024))
    backups = tmp_path / "backups"
    env = {
        **os.environ,
        "GUANXI_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url(),
        "GUANXI_BACKUP_DIR": str(backups),
        "GUANXI_BACKUP_OFFSITE_DIR": "",
    }
    proc = subprocess.Popen([GUANXI, "backup", "--full"], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(backups.glob("*.partial")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert list(backups.glob("*.partial")), "killed before it started writing"
    assert not list(backups.glob("*.gxb"))
    assert Backup.objects.count() == 0
    listed = subprocess.run(
        [GUANXI, "backups", "--json"], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(listed.stdout.splitlines()[-1]) == []

    done = subprocess.run(
        [GUANXI, "backup", "--full", "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert Backup.objects.get().backup_id == result["id"]
    assert not list(backups.glob("*.partial"))
    assert (backups / f"{result['id']}.gxb").exists()
