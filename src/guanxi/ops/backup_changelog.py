"""The change log behind incremental backups: triggers write the key of every inserted,
updated or deleted row of every backed-up table into ``ops_row_change``.

An incremental then reads the keys logged since its base backup and fetches only those rows,
so its cost follows the number of changes, not the size of the database. Triggers (not
application code) so that every write path is seen: services, raw SQL, bulk imports.

- SQLite: row-level triggers; the log's AUTOINCREMENT id is the watermark (one writer at a
  time, so ids follow commit order and a snapshot's ``max(id)`` is exact).
- PostgreSQL: statement-level triggers over transition tables (one INSERT ... SELECT per
  statement, so COPY and bulk INSERT stay fast) and TRUNCATE logged as "whole table". Ids
  do not follow commit order there, so each entry carries its transaction id and a backup
  records its snapshot: the next incremental takes the entries that snapshot did not see.

Installed after every migrate (the ops app's post_migrate), idempotently, so new tables are
covered and SQLite tables rebuilt by a migration get their triggers back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

LOG = "ops_row_change"
PREFIX = "ops_rc_"
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {PREFIX}log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('INSERT INTO {LOG} (table_name, row_key) SELECT %L, n.%I::text '
                   'FROM {PREFIX}new n', TG_TABLE_NAME, TG_ARGV[0]);
  ELSIF TG_OP = 'UPDATE' THEN
    -- both keys when an UPDATE changes the primary key; one entry when it does not
    EXECUTE format('INSERT INTO {LOG} (table_name, row_key) SELECT %L, k FROM '
                   '(SELECT n.%I::text AS k FROM {PREFIX}new n UNION '
                   'SELECT o.%I::text FROM {PREFIX}old o) s',
                   TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[0]);
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('INSERT INTO {LOG} (table_name, row_key) SELECT %L, o.%I::text '
                   'FROM {PREFIX}old o', TG_TABLE_NAME, TG_ARGV[0]);
  ELSE
    INSERT INTO {LOG} (table_name, row_key) VALUES (TG_TABLE_NAME, NULL);
  END IF;
  RETURN NULL;
END $$
"""
_PG_REFERENCING = {
    "insert": f"REFERENCING NEW TABLE AS {PREFIX}new",
    "update": f"REFERENCING NEW TABLE AS {PREFIX}new OLD TABLE AS {PREFIX}old",
    "delete": f"REFERENCING OLD TABLE AS {PREFIX}old",
    "truncate": "",
}


def _sqlite_triggers(table: str, pk: str) -> dict[str, str]:
    """Trigger name -> CREATE TRIGGER for one table (row level)."""
    log = f"INSERT INTO {LOG} (table_name, row_key)"
    return {
        f"{PREFIX}{table}_i": f'CREATE TRIGGER "{PREFIX}{table}_i" AFTER INSERT ON "{table}" '
        f"BEGIN {log} VALUES ('{table}', NEW.\"{pk}\"); END",
        f"{PREFIX}{table}_u": f'CREATE TRIGGER "{PREFIX}{table}_u" AFTER UPDATE ON "{table}" '
        f"BEGIN {log} VALUES ('{table}', NEW.\"{pk}\"); "
        f'{log} SELECT \'{table}\', OLD."{pk}" WHERE OLD."{pk}" IS NOT NEW."{pk}"; END',
        f"{PREFIX}{table}_d": f'CREATE TRIGGER "{PREFIX}{table}_d" AFTER DELETE ON "{table}" '
        f"BEGIN {log} VALUES ('{table}', OLD.\"{pk}\"); END",
    }


def _pg_trigger(table: str, pk: str, op: str) -> str:
    each = "" if op == "truncate" else _PG_REFERENCING[op]
    return (
        f'CREATE TRIGGER {PREFIX}{op} AFTER {op.upper()} ON "{table}" {each} '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}log('{pk}')"
    )


def _pg_existing(cur: Any) -> set[tuple[str, str]]:
    cur.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname LIKE 'ops\\_rc\\_%%' AND c.relnamespace = current_schema()::regnamespace"
    )
    return {(row[0], row[1]) for row in cur.fetchall()}


def install(connection: Any, tables: dict[str, str]) -> None:
    """(Re)create the triggers on ``tables`` (name -> pk column); idempotent."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(_PG_FUNCTION)
            # Only what is missing: PostgreSQL refuses to re-trigger a table with pending
            # trigger events in the current transaction (a migrate's own writes).
            existing = _pg_existing(cur)
            for table, pk in tables.items():
                for op in _PG_REFERENCING:
                    if (table, f"{PREFIX}{op}") not in existing:
                        cur.execute(_pg_trigger(table, pk, op))
            return
        cur.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?",
            (f"{PREFIX}%",),
        )
        for name, table in cur.fetchall():
            if table not in tables:  # a table no longer backed up
                cur.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        for table, pk in tables.items():
            for name, sql in _sqlite_triggers(table, pk).items():
                cur.execute(f'DROP TRIGGER IF EXISTS "{name}"')
                cur.execute(sql)


def uninstall(connection: Any) -> None:
    """Drop every change-log trigger (benchmarks measure writes without them)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for table, name in _pg_existing(cur):
                cur.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
            return
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?",
            (f"{PREFIX}%",),
        )
        for (name,) in cur.fetchall():
            cur.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def missing(connection: Any, tables: Iterable[str]) -> list[str]:
    """Tables whose writes would not be logged (an incremental on them would miss rows)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            have = _pg_existing(cur)
            want = [f"{PREFIX}{op}" for op in _PG_REFERENCING]
            return [t for t in tables if any((t, name) not in have for name in want)]
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?",
            (f"{PREFIX}%",),
        )
        names = {row[0] for row in cur.fetchall()}
    return [t for t in tables if not set(_sqlite_triggers(t, "x")) <= names]


# -- reading and trimming (on the backup's own raw connections) ----------------------------------


def sqlite_mark(con: Any) -> dict[str, Any]:
    """Where the log stands in this read transaction: its highest id."""
    row = con.execute(f"SELECT max(id) FROM {LOG}").fetchone()
    return {"watermark": row[0] or 0}


def sqlite_changes(con: Any, since: dict[str, Any]) -> dict[str, set[str] | None]:
    """table -> keys written after ``since`` (a previous backup's mark)."""
    out: dict[str, set[str] | None] = {}
    cur = con.execute(f"SELECT table_name, row_key FROM {LOG} WHERE id > ?", (since["watermark"],))
    for table, key in cur:
        keys = out.setdefault(table, set())
        if keys is not None:
            keys.add(str(key))
    return out


def pg_mark(con: Any) -> dict[str, Any]:
    """The snapshot this backup reads in: entries of transactions it does not see are due."""
    row = con.execute("SELECT pg_current_snapshot()::text").fetchone()
    return {"snapshot": row[0]}


def pg_changes(con: Any, since: dict[str, Any]) -> dict[str, set[str] | None]:
    out: dict[str, set[str] | None] = {}
    cur = con.execute(
        f"SELECT DISTINCT table_name, row_key FROM {LOG} "
        "WHERE NOT pg_visible_in_snapshot(tx, %s::pg_snapshot)",
        (since["snapshot"],),
    )
    for table, key in cur:
        if key is None:
            out[table] = None  # truncated: every row may have changed
        else:
            keys = out.setdefault(table, set())
            if keys is not None:
                keys.add(key)
    return out


def trim(connection: Any, mark: dict[str, Any]) -> int:
    """Delete the entries a backup with ``mark`` already holds (the next incremental starts
    from there), so the log stays as small as the changes since the latest backup."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"DELETE FROM {LOG} WHERE pg_visible_in_snapshot(tx, %s::pg_snapshot)",
                [mark["snapshot"]],
            )
        else:
            # The entry at the watermark stays: the log's highest id never falls below it,
            # so a log that went back (an older database file put in place) shows.
            cur.execute(f"DELETE FROM {LOG} WHERE id < %s", [mark["watermark"]])
        return cur.rowcount


def went_back(connection: Any, mark: dict[str, Any]) -> bool:
    """Whether the log is behind a backup's mark (SQLite): its entries since cannot be told."""
    if connection.vendor == "postgresql":
        return False  # transaction ids only grow in a cluster
    with connection.cursor() as cur:
        cur.execute(f"SELECT max(id) FROM {LOG}")
        return (cur.fetchone()[0] or 0) < mark["watermark"]
