"""``guanxi audit verify``: an untouched chain passes; a row edited, deleted or inserted
directly in the database (as a DBA could) is named with the kind of tampering.

On PostgreSQL the table refuses UPDATE and DELETE; the tampering tests switch the trigger
off first, as someone with the table owner's rights could.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from guanxi.audit.models import AuditChainHead, AuditEntry, AuditResult
from guanxi.audit.services import RequestMeta, audit_record, entry_digest
from guanxi.audit.verify import DELETED, EDITED, INSERTED, verify_chain

pytestmark = pytest.mark.django_db
TRIGGER = "audit_auditentry_append_only"
IS_PG = connection.vendor == "postgresql"


@contextmanager
def tampering() -> Iterator[Any]:
    """A cursor with the append-only trigger switched off (PostgreSQL), back on after."""
    with connection.cursor() as cursor:
        if IS_PG:
            cursor.execute(f"ALTER TABLE audit_auditentry DISABLE TRIGGER {TRIGGER}")
        try:
            yield cursor
        finally:
            if IS_PG:
                cursor.execute(f"ALTER TABLE audit_auditentry ENABLE TRIGGER {TRIGGER}")


def _entries(n: int = 6) -> list[AuditEntry]:
    meta = RequestMeta(ip="2001:DB8::0001", user_agent="Mozilla/5.0 测试浏览器")
    rows = []
    for i in range(n):
        rows.append(
            audit_record(
                actor=None,
                action="customer.update" if i % 2 else "auth.login",
                object_type="customer",
                object_id=i + 1,
                object_repr=f"深圳测试科技有限公司{i}",
                changes={"name": [f"旧{i}", f"新{i}"], "z": {"b": 1, "a": [1.5, None]}},
                params={"reason": "测试", "n": i},
                result=AuditResult.SUCCESS if i % 3 else AuditResult.DENIED,
                error_code="" if i % 3 else "ERR-002",
                meta=meta,
            )
        )
    return rows


def _run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode or 1
    return code, out.getvalue(), err.getvalue()


def _bump_id_sequence(by: int) -> None:
    """Leave a gap in the ids (as rolled-back inserts do on PostgreSQL)."""
    with connection.cursor() as cursor:
        if IS_PG:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), "
                "(SELECT MAX(id) FROM audit_auditentry) + %s)",
                [by],
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = 'audit_auditentry'", [by]
            )


def _insert_copy(cursor: Any, source: AuditEntry, *, pk: int, prev_hash: str, entry_hash: str):
    cursor.execute(
        "INSERT INTO audit_auditentry (id, occurred_at, actor_id, actor_username, ip, user_agent,"
        " action, object_type, object_id, object_repr, changes, params, result, error_code,"
        " prev_hash, entry_hash) SELECT %s, occurred_at, actor_id, actor_username, ip,"
        " user_agent, 'user.roles', object_type, object_id, object_repr, changes, params, result,"
        " error_code, %s, %s FROM audit_auditentry WHERE id = %s",
        [pk, prev_hash, entry_hash, source.pk],
    )


# --- untouched ---------------------------------------------------------------------------


def test_untouched_log_passes_with_count_and_speed():
    rows = _entries(7)
    result = verify_chain(batch_size=3)
    assert result.ok and result.complete
    assert result.checked == 7
    assert result.last_id == rows[-1].pk and result.last_hash == rows[-1].entry_hash
    code, out, _err = _run()
    assert code == 0
    assert out.startswith("OK:") and "7" in out and "entries/s" in out


def test_json_output_is_one_object():
    _entries(3)
    code, out, _err = _run("--json")
    data = json.loads(out)
    assert code == 0
    assert data["ok"] is True and data["checked"] == 3 and data["problem"] is None
    assert "entries_per_second" in data and "elapsed" in data


def test_empty_log_passes():
    assert verify_chain().ok


def test_stored_values_hash_the_same_as_written():
    """Round trip through the database (inet, jsonb key order, time zone) keeps the hash."""
    entry = _entries(1)[0]
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.ip == "2001:db8::1"
    assert entry_digest(stored) == stored.entry_hash == entry.entry_hash


def test_appends_during_the_walk_are_not_tampering():
    _entries(5)

    def append(checked: int, elapsed: float) -> None:
        audit_record(actor=None, action="auth.login", params={"during": checked})

    result = verify_chain(batch_size=2, progress=append)
    assert result.ok, result.message
    assert result.checked >= 5


def test_time_budget_stops_early_and_says_so():
    _entries(6)
    result = verify_chain(batch_size=2, time_budget=0)
    assert result.ok and not result.complete
    assert result.checked == 2


# --- the append-only trigger (PostgreSQL) -------------------------------------------------


@pytest.mark.skipif(not IS_PG, reason="the append-only trigger exists on PostgreSQL only")
def test_postgresql_refuses_update_and_delete():
    entry = _entries(2)[0]
    for sql in (
        "UPDATE audit_auditentry SET object_repr = 'changed' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.object_repr == entry.object_repr
    assert AuditEntry.objects.count() == 2
    assert verify_chain().ok


# --- edited ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("object_repr", "'另一家公司'"),
        ("user_agent", "'curl/8.0'"),
        ("params", """'{"reason": "改过", "n": 2}'"""),
        ("result", "'failed'"),
        ("entry_hash", "'" + "0" * 64 + "'"),
    ],
)
def test_edited_row_is_named(column, value):
    rows = _entries(5)
    target = rows[2]
    with tampering() as cursor:
        cursor.execute(f"UPDATE audit_auditentry SET {column} = {value} WHERE id = %s", [target.pk])
    result = verify_chain()
    assert not result.ok
    assert (result.problem, result.entry_id) == (EDITED, target.pk)
    code, out, _err = _run()
    assert code == 1
    assert f"edited at entry #{target.pk}" in out


def test_edited_row_with_rehashed_entry_is_still_named():
    """Recomputing the plain SHA-256 does not help: the hash is keyed."""
    import hashlib

    rows = _entries(4)
    target = rows[1]
    forged = hashlib.sha256(b"anything").hexdigest()
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET object_repr = 'x', entry_hash = %s WHERE id = %s",
            [forged, target.pk],
        )
    result = verify_chain()
    assert (result.problem, result.entry_id) == (EDITED, target.pk)


def test_chain_head_edited_is_named():
    rows = _entries(3)
    AuditChainHead.objects.filter(pk=1).update(last_hash="f" * 64)
    result = verify_chain()
    assert (result.problem, result.entry_id) == (EDITED, rows[-1].pk)


def test_other_key_names_the_first_entry_with_a_hint():
    rows = _entries(2)
    with override_settings(BLIND_INDEX_KEY="b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXkhISE="):
        result = verify_chain()
    assert (result.problem, result.entry_id) == (EDITED, rows[0].pk)
    assert "GUANXI_BLIND_INDEX_KEY" in result.details["hint"]


# --- deleted -----------------------------------------------------------------------------


def test_deleted_row_names_the_entry_after_the_gap():
    rows = _entries(6)
    with tampering() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditentry WHERE id IN (%s, %s)", [rows[2].pk, rows[3].pk]
        )
    result = verify_chain()
    assert not result.ok
    assert (result.problem, result.entry_id) == (DELETED, rows[4].pk)
    assert result.details["after_id"] == rows[1].pk
    code, out, _err = _run("--json")
    assert code == 1
    assert json.loads(out)["problem"] == DELETED


def test_deleted_first_row_is_named():
    rows = _entries(3)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [rows[0].pk])
    result = verify_chain()
    assert (result.problem, result.entry_id) == (DELETED, rows[1].pk)


def test_deleted_last_row_is_named_through_the_head():
    rows = _entries(4)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [rows[-1].pk])
    result = verify_chain()
    assert (result.problem, result.entry_id) == (DELETED, rows[-1].pk)


def test_id_gap_alone_is_not_tampering():
    _entries(2)
    _bump_id_sequence(5)
    _entries(2)
    assert verify_chain().ok


# --- inserted ----------------------------------------------------------------------------


def test_forged_row_appended_after_the_head_is_named():
    """Even with a valid keyed hash and link, a row the head does not know is inserted."""
    rows = _entries(3)
    last = rows[-1]
    _bump_id_sequence(0)
    forged_id = last.pk + 1
    with tampering() as cursor:
        _insert_copy(cursor, last, pk=forged_id, prev_hash=last.entry_hash, entry_hash="0" * 64)
    forged = AuditEntry.objects.get(pk=forged_id)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET entry_hash = %s WHERE id = %s",
            [entry_digest(forged), forged_id],
        )
    result = verify_chain()
    assert (result.problem, result.entry_id) == (INSERTED, forged_id)


@pytest.mark.parametrize("valid_hash", [False, True])
def test_forged_row_in_the_middle_is_named(valid_hash):
    first = _entries(3)
    _bump_id_sequence(10)
    later = _entries(3)
    forged_id = first[-1].pk + 5
    with tampering() as cursor:
        _insert_copy(
            cursor, first[-1], pk=forged_id, prev_hash=first[-1].entry_hash, entry_hash="0" * 64
        )
        if valid_hash:  # an attacker who also holds the key
            digest = entry_digest(AuditEntry.objects.get(pk=forged_id))
            cursor.execute(
                "UPDATE audit_auditentry SET entry_hash = %s WHERE id = %s", [digest, forged_id]
            )
    assert first[-1].pk < forged_id < later[0].pk
    result = verify_chain()
    assert not result.ok
    assert (result.problem, result.entry_id) == (INSERTED, forged_id)
    code, out, _err = _run()
    assert code == 1 and f"inserted at entry #{forged_id}" in out


def test_forged_row_before_the_first_is_named():
    rows = _entries(2)
    with tampering() as cursor:
        _insert_copy(
            cursor,
            rows[0],
            pk=rows[0].pk - 1 if rows[0].pk > 1 else 0,
            prev_hash="x",
            entry_hash="y",
        )
    result = verify_chain()
    assert result.problem == INSERTED
    assert result.entry_id < rows[0].pk
