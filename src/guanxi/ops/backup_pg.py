"""PostgreSQL behind the backup interface: ``pg_dump -Fc`` under an exported snapshot (the
row digests are read in that same snapshot), ``pg_restore --clean --single-transaction``, row
digests hashed in SQL, incrementals read from the change log (``backup_changelog``) in one
snapshot and applied with ``json_populate_recordset``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from guanxi.ops import backup_changelog
from guanxi.ops.backup_db import (
    BATCH,
    changed_tables,
    chunks,
    read_deleted,
    write_deleted,
    write_rows,
)
from guanxi.ops.backup_state import (
    StateBuilder,
    TableState,
    diff_keys,
    merge_changes,
    patch_states,
)


class PostgresDatabase:
    """A PostgreSQL database reached with the configured credentials."""

    vendor = "postgresql"
    dump_name = "db.pgdump"

    def __init__(self, settings_dict: dict[str, Any], name: str | None = None) -> None:
        from psycopg.conninfo import make_conninfo

        parts = {
            "dbname": name or settings_dict["NAME"],
            "host": settings_dict.get("HOST") or None,
            "port": str(settings_dict.get("PORT") or "") or None,
            "user": settings_dict.get("USER") or None,
            "password": settings_dict.get("PASSWORD") or None,
        }
        self.settings_dict = settings_dict
        self.name = parts["dbname"]
        self.conninfo = make_conninfo(**{k: v for k, v in parts.items() if v})

    def _connect(self, **kwargs: Any) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo, **kwargs)

    def _snapshot_connection(self) -> Any:
        from psycopg import IsolationLevel

        con = self._connect()
        con.isolation_level = IsolationLevel.REPEATABLE_READ
        con.read_only = True
        return con

    def full_dump(
        self, dest: Path, tables: dict[str, str]
    ) -> tuple[dict[str, TableState], dict[str, Any]]:
        """pg_dump under the snapshot the digests are read in (uncompressed: zstd follows).
        The change log's rows are left out: the restored database starts with an empty log."""
        con = self._snapshot_connection()
        try:
            snapshot = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
            mark = backup_changelog.pg_mark(con)
            subprocess.run(
                [
                    "pg_dump",
                    "-Fc",
                    "-Z0",
                    f"--snapshot={snapshot}",
                    f"--exclude-table-data={backup_changelog.LOG}",
                    "-f",
                    str(dest),
                    "-d",
                    self.conninfo,
                ],
                check=True,
                capture_output=True,
            )
            return self._scan(con, tables, None, None), mark
        finally:
            con.rollback()
            con.close()

    def scan(
        self,
        tables: dict[str, str],
        previous: dict[str, TableState] | None = None,
        changes: Path | None = None,
    ) -> dict[str, TableState]:
        con = self._snapshot_connection()
        try:
            return self._scan(con, tables, previous, changes)
        finally:
            con.rollback()
            con.close()

    def incremental(
        self,
        tables: dict[str, str],
        previous: dict[str, TableState],
        since: dict[str, Any],
        int_keyed: set[str],
        changes: Path,
    ) -> tuple[dict[str, TableState], dict[str, Any]]:
        """Rows logged since ``since`` (a previous backup's mark) into ``changes``, in one
        snapshot; the new states are the previous ones patched with those rows."""
        con = self._snapshot_connection()
        try:
            mark = backup_changelog.pg_mark(con)
            logged = backup_changelog.pg_changes(con, since)
            states = patch_states(
                tables,
                previous,
                logged,
                int_keyed,
                lambda t, pk, old, keys: self._fetch_table(con, t, pk, old, keys, changes),
                lambda t, pk, old: self._scan_table(con, t, pk, old, changes),
            )
            return states, mark
        finally:
            con.rollback()
            con.close()

    @staticmethod
    def _fetch_table(
        con: Any, table: str, pk: str, old: TableState, logged: set[str], changes: Path
    ) -> TableState:
        keys = sorted(int(k) for k in logged)
        rows, fetched = {}, {}
        for batch in chunks(keys, BATCH):
            cur = con.execute(
                f"SELECT t.\"{pk}\", decode(left(md5(t::text), 16), 'hex'), row_to_json(t)::text "
                f'FROM "{table}" t WHERE t."{pk}" = ANY(%s)',
                (batch,),
            )
            for key, digest, line in cur:
                fetched[key] = bytes(digest)
                rows[key] = line
        state, changed, deleted = merge_changes(old, fetched, keys)
        if changed:
            write_rows(changes, table, {"pk": pk}, (rows[k] for k in changed))
        write_deleted(changes, table, deleted)
        return state

    def _scan(
        self, con: Any, tables: dict[str, str], previous: Any, changes: Path | None
    ) -> dict[str, TableState]:
        return {
            table: self._scan_table(con, table, pk, (previous or {}).get(table), changes)
            for table, pk in tables.items()
        }

    def _scan_table(
        self, con: Any, table: str, pk: str, prev: TableState | None, changes: Path | None
    ) -> TableState:
        builder = StateBuilder(pk)
        with con.cursor(name="gx_backup_scan") as cur:
            cur.itersize = 20000
            cur.execute(
                f"SELECT \"{pk}\", decode(left(md5(t::text), 16), 'hex') "
                f'FROM "{table}" t ORDER BY "{pk}"'
            )
            for key, digest in cur:
                builder.add(key, bytes(digest))
        state = builder.state
        if changes is not None:
            changed, deleted = diff_keys(prev, state.keys, bytes(state.hashes))
            self._write_changes(con, table, pk, changed, deleted, changes)
        return state

    @staticmethod
    def _write_changes(
        con: Any, table: str, pk: str, changed: list, deleted: list, changes: Path
    ) -> None:
        if changed:
            with open(changes / f"{table}.jsonl", "w") as out:
                out.write(json.dumps({"pk": pk}) + "\n")
                for batch in chunks(changed, BATCH):
                    cur = con.execute(
                        f'SELECT row_to_json(t)::text FROM "{table}" t WHERE "{pk}" = ANY(%s)',
                        (batch,),
                    )
                    for (line,) in cur:
                        out.write(line + "\n")
        write_deleted(changes, table, deleted)

    def restore_full(self, dump: Path) -> None:
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                self.conninfo,
                str(dump),
            ],
            check=True,
            capture_output=True,
        )

    def apply(self, changes: Path, tables: Iterable[str]) -> None:
        """One transaction (FKs are deferred to its commit); user triggers (report tallies,
        the audit table's append-only guard) are off on the touched tables meanwhile: the
        incremental holds every table's final rows already."""
        with self._connect() as con:
            touched = changed_tables(changes)
            for table in touched:
                con.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            for table in touched:
                self._apply_table(con, changes, table)
            con.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checks run now, not at the ALTER
            for table in touched:
                con.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')

    def _apply_table(self, con: Any, changes: Path, table: str) -> None:
        deleted = read_deleted(changes, table)
        rows_path = changes / f"{table}.jsonl"
        rows: list[str] = []
        pk = ""
        if rows_path.exists():
            with open(rows_path) as fh:
                pk = json.loads(fh.readline())["pk"]
                rows = [line.rstrip("\n") for line in fh]
        pk = pk or self._pk_of(con, table)
        keys = deleted + [json.loads(row)[pk] for row in rows]
        for batch in chunks(keys, BATCH):
            con.execute(f'DELETE FROM "{table}" WHERE "{pk}" = ANY(%s)', (batch,))
        if rows:
            names = ",".join(f'"{c}"' for c in self._columns(con, table))
            for batch in chunks(rows, BATCH):
                con.execute(
                    f'INSERT INTO "{table}" ({names}) SELECT {names} '
                    f'FROM json_populate_recordset(NULL::"{table}", %s::json)',
                    ("[" + ",".join(batch) + "]",),
                )

    @staticmethod
    def _columns(con: Any, table: str) -> list[str]:
        cur = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in cur]

    @staticmethod
    def _pk_of(con: Any, table: str) -> str:
        cur = con.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (f'"{table}"',),
        )
        return cur.fetchone()[0]

    def reset_sequences(self, tables: dict[str, str]) -> None:
        """Explicit ids from incrementals leave identity sequences behind: move them on."""
        with self._connect() as con:
            for table, pk in tables.items():
                seq = con.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", (f'"{table}"', pk)
                ).fetchone()[0]
                if seq:
                    con.execute(
                        f'SELECT setval(%s, GREATEST((SELECT max("{pk}") FROM "{table}"), 1))',
                        (seq,),
                    )

    def sample_values(self, table: str, column: str, limit: int = 20) -> list[str]:
        with self._connect() as con:
            sql = f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\' LIMIT %s'
            return [row[0] for row in con.execute(sql, (limit,))]

    def create_scratch(self, name: str) -> PostgresDatabase:
        """An empty database beside this one (for restore verification)."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        return PostgresDatabase(self.settings_dict, name=name)

    def drop(self) -> None:
        PostgresDatabase(self.settings_dict, name="postgres")._admin(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'
        )

    def _admin(self, *statements: str) -> None:
        admin = PostgresDatabase(self.settings_dict, name="postgres")
        with admin._connect(autocommit=True) as con:
            for sql in statements:
                con.execute(sql)
