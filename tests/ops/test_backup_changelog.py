"""Incrementals read the trigger-fed change log: every write path is seen, an incremental
costs what changed, and the log is trimmed behind each backup."""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from guanxi.customers.models import Tag
from guanxi.ops import backup_changelog
from guanxi.ops.backup_db import live_database
from guanxi.ops.backup_models import RestoreLog, RowChange
from guanxi.ops.backup_service import backup_create, table_specs
from guanxi.ops.backup_state import TableState, merge_changes
from guanxi.ops.verification import verify_backup

pytestmark = pytest.mark.django_db(transaction=True)

AUDIT = {"audit_auditentry", "audit_auditchainhead"}


def live_matches(manifest: dict[str, Any]) -> None:
    """The patched digests of the incremental equal a full scan of the live tables (but the
    audit trail, which has the backup's own entry since)."""
    states = live_database().scan(table_specs())
    got = {name: (st.rows, st.checksum()) for name, st in states.items() if name not in AUDIT}
    want = {
        name: (t["rows"], t["checksum"])
        for name, t in manifest["tables"].items()
        if name not in AUDIT
    }
    assert got == want


def tag_rows(n: int, prefix: str) -> None:
    Tag.objects.bulk_create([Tag(name=f"{prefix}{i}", tag_type="t") for i in range(n)])


def test_raw_sql_writes_are_captured(
    org: dict[str, Any], make_customer: Any, backup_dirs: dict[str, Path]
) -> None:
    tag_rows(5, "原")
    first = make_customer(org["rep_a"], name="客户甲", mobile="13900000011")
    make_customer(org["rep_a"], name="客户乙", mobile="13900000012")
    full = backup_create(kind="full")
    ids = sorted(Tag.objects.filter(tag_type="t").values_list("id", flat=True))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO customers_tag (name, color, tag_type, created_at) VALUES (%s, %s, %s, %s)",
            ["单条", "#fff", "t", now],
        )
        cur.execute("UPDATE customers_tag SET color = %s WHERE id = %s", ["#000", ids[0]])
        cur.execute("DELETE FROM customers_tag WHERE id = %s", [ids[1]])
        cur.execute("UPDATE customers_tag SET id = %s WHERE id = %s", [ids[-1] + 100000, ids[2]])
        cur.execute(  # bulk INSERT ... SELECT: one statement, many rows
            "INSERT INTO customers_tag (name, color, tag_type, created_at) "
            "SELECT name || '-复制', color, 'bulk', created_at FROM customers_tag "
            "WHERE tag_type = 't'"
        )
        cur.execute("UPDATE customers_customer SET notes = %s WHERE id = %s", ["原生", first.pk])
    inc = backup_create(kind="incremental")
    assert inc.kind == "incremental" and inc.base_id == full.pk
    tags = inc.manifest["changes"]["customers_tag"]
    # 1 single + 1 color + 1 moved key (new row) + 5 copies; deleted: ids[1] and the old key
    assert tags == {"rows": 8, "deleted": 2}
    assert inc.manifest["changes"]["customers_customer"] == {"rows": 1, "deleted": 0}
    live_matches(inc.manifest)
    record = verify_backup(inc)
    assert record.ok, record.message


def test_incremental_after_no_changes_is_nearly_empty(
    org: dict[str, Any], make_customer: Any, backup_dirs: dict[str, Path]
) -> None:
    for i in range(3):
        make_customer(org["rep_a"], name=f"客户{i}", mobile=f"1390000002{i}")
    backup_create(kind="full")
    inc = backup_create(kind="incremental")
    assert inc.kind == "incremental"
    # Only the audit entry of the full backup itself was written since.
    assert set(inc.manifest["changes"]) <= {"audit_auditentry", "audit_auditchainhead"}
    assert sum(c["rows"] for c in inc.manifest["changes"].values()) <= 2
    live_matches(inc.manifest)


def test_change_log_is_trimmed_after_backups(
    org: dict[str, Any], make_customer: Any, backup_dirs: dict[str, Path]
) -> None:
    backup_create(kind="full")
    tag_rows(50, "批")
    Tag.objects.filter(name__startswith="批1").update(color="#123")
    assert RowChange.objects.count() >= 50
    inc = backup_create(kind="incremental")
    assert inc.manifest["changes"]["customers_tag"]["rows"] == 50
    # What is left: the entry at the watermark and the backup's own audit entry after it.
    assert RowChange.objects.count() <= 5
    tag_rows(3, "再")
    again = backup_create(kind="incremental")
    assert again.manifest["changes"]["customers_tag"] == {"rows": 3, "deleted": 0}
    assert RowChange.objects.count() <= 5
    live_matches(again.manifest)


def test_incremental_after_a_restore_or_without_triggers_is_full(
    org: dict[str, Any], backup_dirs: dict[str, Path]
) -> None:
    full = backup_create(kind="full")
    RestoreLog.objects.create(backup_id=full.backup_id, started_at=timezone.now(), ok=True)
    RestoreLog.objects.update(finished_at=timezone.now())
    assert backup_create(kind="incremental").kind == "full"
    assert backup_create(kind="incremental").kind == "incremental"
    backup_changelog.uninstall(connection)
    try:
        assert backup_create(kind="incremental").kind == "full"
    finally:
        backup_changelog.install(connection, table_specs())
    assert backup_changelog.missing(connection, table_specs()) == []
    if connection.vendor == "sqlite":  # an older file in place: its log is behind the mark
        RowChange.objects.all().delete()
        assert backup_create(kind="incremental").kind == "full"


def test_merge_changes_patches_sorted_state() -> None:
    keys = array("q", [1, 2, 3, 5, 8])
    hashes = bytearray(b"".join(bytes([k]) * 8 for k in keys))
    state = TableState(pk="id", keys=keys, hashes=hashes)
    fetched = {2: bytes([2]) * 8, 3: b"\x09" * 8, 4: b"\x04" * 8, 9: b"\x07" * 8}
    new, changed, deleted = merge_changes(state, fetched, [9, 3, 2, 4, 5, 6])
    assert list(new.keys) == [1, 2, 3, 4, 8, 9]
    assert new.hashes == bytearray(b"".join(bytes([k]) * 8 for k in (1, 2, 9, 4, 8, 7)))
    assert changed == [3, 4, 9]
    assert deleted == [5]
