"""PostgreSQL behind the backup interface: ``pg_dump -Fc`` under an exported snapshot (the
row digests are read in that same snapshot), ``pg_restore --clean --single-transaction``, row
digests hashed in SQL, incrementals applied with ``json_populate_recordset``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from guanxi.ops.backup_db import BATCH, changed_tables, chunks, read_deleted
from guanxi.ops.backup_state import StateBuilder, TableState, diff_keys


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

    def full_dump(self, dest: Path, tables: dict[str, str]) -> dict[str, TableState]:
        """pg_dump under the snapshot the digests are read in (uncompressed: zstd follows)."""
        con = self._snapshot_connection()
        try:
            snapshot = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
            subprocess.run(
                [
                    "pg_dump",
                    "-Fc",
                    "-Z0",
                    f"--snapshot={snapshot}",
                    "-f",
                    str(dest),
                    "-d",
                    self.conninfo,
                ],
                check=True,
                capture_output=True,
            )
            return self._scan(con, tables, None, None)
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

    def _scan(
        self, con: Any, tables: dict[str, str], previous: Any, changes: Path | None
    ) -> dict[str, TableState]:
        states = {}
        for table, pk in tables.items():
            builder = StateBuilder(pk)
            with con.cursor(name="gx_backup_scan") as cur:
                cur.itersize = 20000
                cur.execute(
                    f"SELECT \"{pk}\", decode(left(md5(t::text), 16), 'hex') "
                    f'FROM "{table}" t ORDER BY "{pk}"'
                )
                for key, digest in cur:
                    builder.add(key, bytes(digest))
            states[table] = state = builder.state
            if changes is not None:
                prev = (previous or {}).get(table)
                changed, deleted = diff_keys(prev, state.keys, bytes(state.hashes))
                self._write_changes(con, table, pk, changed, deleted, changes)
        return states

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
        if deleted:
            (changes / f"{table}.deleted.json").write_text(json.dumps(deleted))

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
