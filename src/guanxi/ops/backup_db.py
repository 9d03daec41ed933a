"""The two databases' own tools behind one interface (SQLite here, PostgreSQL in backup_pg).

SQLite: the online backup API copies the live file in one step (a consistent snapshot) and
restores into the live file through its pager, so WAL readers stay correct. PostgreSQL:
``pg_dump -Fc`` under an exported snapshot (the row digests are read in that same snapshot)
and ``pg_restore --clean --single-transaction``. Incrementals are logical row diffs on both,
written in each vendor's own row format (restores never cross vendors).

Incrementals read only the rows the change log (``backup_changelog``) names since the base
backup and patch its row digests (``backup_state.merge_changes``); a table whose keys are not
integers (a few small counters), or that was truncated, is re-scanned whole instead.

SQLite rows are hashed in Python (marshal format 2: no back-references, so equal rows always
give equal bytes; twice as fast as repr); PostgreSQL hashes them in SQL (md5 of the row text).
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from hashlib import blake2b
from marshal import dumps
from pathlib import Path
from typing import Any

from guanxi.ops import backup_changelog
from guanxi.ops.backup_state import StateBuilder, TableState, merge_changes, patch_states

BATCH = 2000


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _encode(value: Any) -> Any:
    return {"$b": base64.b64encode(value).decode()} if isinstance(value, bytes) else value


def _decode(value: Any) -> Any:
    return base64.b64decode(value["$b"]) if isinstance(value, dict) else value


def changed_tables(changes: Path) -> list[str]:
    names = {p.name.split(".")[0] for p in changes.glob("*.json*")}
    return sorted(names)


def write_rows(changes: Path, table: str, head: dict[str, Any], lines: Iterable[str]) -> None:
    """One table's upserts: a JSON header line, then one JSON row per line."""
    with open(changes / f"{table}.jsonl", "w") as out:
        out.write(json.dumps(head) + "\n")
        for line in lines:
            out.write(line + "\n")


def write_deleted(changes: Path, table: str, keys: list[Any]) -> None:
    if keys:
        (changes / f"{table}.deleted.json").write_text(json.dumps(keys))


def read_deleted(changes: Path, table: str) -> list[Any]:
    path = changes / f"{table}.deleted.json"
    return json.loads(path.read_text()) if path.exists() else []


class SqliteDatabase:
    """A SQLite file: the live database or a scratch copy."""

    vendor = "sqlite"
    dump_name = "db.sqlite3"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, timeout=60)

    def full_dump(
        self, dest: Path, tables: dict[str, str]
    ) -> tuple[dict[str, TableState], dict[str, Any]]:
        """Snapshot with the backup API (all pages in one step), then digest the copy;
        also where the change log stood in it (the next incremental starts there)."""
        src, dst = self._connect(), sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        copy = SqliteDatabase(dest)
        con = copy._connect()
        try:
            mark = backup_changelog.sqlite_mark(con)
        finally:
            con.close()
        return copy.scan(tables), mark

    def incremental(
        self,
        tables: dict[str, str],
        previous: dict[str, TableState],
        since: dict[str, Any],
        int_keyed: set[str],
        changes: Path,
    ) -> tuple[dict[str, TableState], dict[str, Any]]:
        """Rows logged since ``since`` (a previous backup's mark) into ``changes``, in one
        read transaction; the new states are the previous ones patched with those rows."""
        con = self._connect()
        try:
            con.execute("BEGIN")
            mark = backup_changelog.sqlite_mark(con)
            logged = backup_changelog.sqlite_changes(con, since)
            states = patch_states(
                tables,
                previous,
                logged,
                int_keyed,
                lambda t, pk, old, keys: self._fetch_table(con, t, pk, old, keys, changes),
                lambda t, pk, old: self._scan_table(
                    con, t, pk, old.lookup() if old is not None else {}, changes
                ),
            )
            con.execute("COMMIT")
        finally:
            con.close()
        return states, mark

    def _fetch_table(
        self,
        con: sqlite3.Connection,
        table: str,
        pk: str,
        old: TableState,
        logged: set[str],
        changes: Path,
    ) -> TableState:
        keys = sorted(int(k) for k in logged)
        rows, fetched, columns = {}, {}, []
        for batch in chunks(keys, 500):
            marks = ",".join("?" * len(batch))
            cur = con.execute(f'SELECT * FROM "{table}" WHERE "{pk}" IN ({marks})', batch)
            columns = [d[0] for d in cur.description]
            at = columns.index(pk)
            for row in cur:
                rows[row[at]] = row
                fetched[row[at]] = blake2b(dumps(row, 2), digest_size=8).digest()
        state, changed, deleted = merge_changes(old, fetched, keys)
        if changed:
            lines = (json.dumps([_encode(v) for v in rows[k]]) for k in changed)
            write_rows(changes, table, {"pk": pk, "columns": columns}, lines)
        write_deleted(changes, table, deleted)
        return state

    def scan(
        self,
        tables: dict[str, str],
        previous: dict[str, TableState] | None = None,
        changes: Path | None = None,
    ) -> dict[str, TableState]:
        """Digest every table in one read transaction; with ``changes``, also write the rows
        that differ from ``previous`` and the keys that vanished."""
        con = self._connect()
        try:
            con.execute("BEGIN")
            states = {}
            for table, pk in tables.items():
                old = previous[table].lookup() if previous and table in previous else {}
                states[table] = self._scan_table(con, table, pk, old, changes)
            con.execute("COMMIT")
        finally:
            con.close()
        return states

    def _scan_table(
        self, con: sqlite3.Connection, table: str, pk: str, old: dict, changes: Path | None
    ) -> TableState:
        cur = con.execute(f'SELECT * FROM "{table}" ORDER BY "{pk}"')
        columns = [d[0] for d in cur.description]
        at = columns.index(pk)
        builder = StateBuilder(pk)
        out = None
        for row in cur:
            digest = blake2b(dumps(row, 2), digest_size=8).digest()
            key = row[at]
            builder.add(key, digest)
            if changes is not None and old.pop(key, None) != digest:
                if out is None:
                    out = open(changes / f"{table}.jsonl", "w")  # noqa: SIM115
                    out.write(json.dumps({"pk": pk, "columns": columns}) + "\n")
                out.write(json.dumps([_encode(v) for v in row]) + "\n")
        if out is not None:
            out.close()
        if changes is not None and old:
            (changes / f"{table}.deleted.json").write_text(json.dumps(list(old)))
        return builder.state

    def restore_full(self, dump: Path) -> None:
        src, dst = sqlite3.connect(dump), self._connect()
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()

    def apply(self, changes: Path, tables: Iterable[str]) -> None:
        """Deletes and upserts of one incremental, in one transaction.

        Triggers that write other backed-up tables (report tallies) are dropped while the
        rows go in and created again after: the incremental already holds those tables' final
        rows, so firing them would count twice. Triggers feeding tables outside the backup
        (the full-text index) keep firing, so the index follows the restored rows.
        """
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            touched = changed_tables(changes)
            paused = self._pause_triggers(con, touched, set(tables))
            for table in touched:
                self._apply_table(con, changes, table)
            for sql in paused:
                con.execute(sql)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def _apply_table(self, con: sqlite3.Connection, changes: Path, table: str) -> None:
        keys = read_deleted(changes, table)
        rows: list[list[Any]] = []
        rows_path = changes / f"{table}.jsonl"
        columns: list[str] = []
        if rows_path.exists():
            with open(rows_path) as fh:
                head = json.loads(fh.readline())
                columns, pk = head["columns"], head["pk"]
                rows = [[_decode(v) for v in json.loads(line)] for line in fh]
            at = columns.index(pk)
            keys += [row[at] for row in rows]
        else:
            pk = self._pk_of(con, table)
        for batch in chunks(keys, 500):
            marks = ",".join("?" * len(batch))
            con.execute(f'DELETE FROM "{table}" WHERE "{pk}" IN ({marks})', batch)
        if rows:
            names = ",".join(f'"{c}"' for c in columns)
            marks = ",".join("?" * len(columns))
            con.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    @staticmethod
    def _pause_triggers(con: sqlite3.Connection, touched: list[str], backed_up: set[str]) -> list:
        paused = []
        marks = ",".join("?" * len(touched))
        rows = con.execute(
            f"SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' "
            f"AND tbl_name IN ({marks})",
            touched,
        ).fetchall()
        for name, own, sql in rows:
            others = backed_up - {own}
            if any(re.search(rf"\b{re.escape(t)}\b", sql) for t in others):
                con.execute(f'DROP TRIGGER "{name}"')
                paused.append(sql)
        return paused

    @staticmethod
    def _pk_of(con: sqlite3.Connection, table: str) -> str:
        for row in con.execute(f'PRAGMA table_info("{table}")'):
            if row[5] == 1:
                return row[1]
        raise ValueError(f"table {table} has no primary key")

    def reset_sequences(self, tables: dict[str, str]) -> None:
        """AUTOINCREMENT counters follow explicit ids by themselves."""

    def sample_values(self, table: str, column: str, limit: int = 20) -> list[str]:
        con = self._connect()
        try:
            sql = f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\' LIMIT ?'
            return [row[0] for row in con.execute(sql, (limit,))]
        finally:
            con.close()


def live_database() -> Any:
    """The configured default database (the test database under pytest)."""
    from django.db import connection

    from guanxi.ops.backup_pg import PostgresDatabase

    if connection.vendor == "sqlite":
        return SqliteDatabase(connection.settings_dict["NAME"])
    if connection.vendor == "postgresql":
        return PostgresDatabase(connection.settings_dict)
    raise ValueError(f"backups do not support {connection.vendor}")
