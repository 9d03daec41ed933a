"""Installing the tally triggers, recounting the tallies and checking them against the data.

``verify`` is what the nightly job and ``guanxi reports_tally --verify`` run: every tally row
compared with a fresh count of the rows it stands for; ``rebuild`` recounts everything (after
a bulk load made with the triggers off, or a change of GUANXI_TIME_ZONE).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from guanxi.core.migration_ops import table_columns
from guanxi.reports import tally_pg, tally_sql

logger = logging.getLogger("guanxi.reports")
# The dashboard's 今日待跟进 / 已逾期 counts, over live customers only (partial indexes, both
# vendors; kept here, not on the model, so they come back with the triggers after a rebuild).
DUE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS reports_cust_due_idx ON customers_customer "
    "(next_follow_up_at) WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS reports_cust_dept_due_idx ON customers_customer "
    "(department_id, next_follow_up_at) WHERE deleted_at IS NULL",
)


def install(*_args: Any) -> None:
    """(Re)create the triggers (idempotent; also a migration step and a post-migrate hook,
    since SQLite drops a table's triggers when a migration rebuilds the table)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Only what is missing: PostgreSQL refuses to index or re-trigger a table with
            # pending trigger events in the current transaction.
            cur.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'reports\\_%%'")
            indexes = {row[0] for row in cur.fetchall()}
            for sql in DUE_INDEXES:
                if sql.split()[5] not in indexes:
                    cur.execute(sql)
            for sql in tally_pg.postgres_functions():
                cur.execute(sql)
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'reports\\_%%'")
            triggers = {row[0] for row in cur.fetchall()}
            for name, sql in tally_pg.postgres_triggers().items():
                if name not in triggers:
                    cur.execute(sql)
            return
        for sql in DUE_INDEXES:
            cur.execute(sql)
        has_batch = "import_batch_id" in table_columns(connection, tally_sql.CUSTOMERS)
        for name, sql in tally_sql.sqlite_triggers(import_exception=has_batch).items():
            cur.execute(f"DROP TRIGGER IF EXISTS {name}")
            cur.execute(sql)


def count_imported(batch_id: int, first_id: int, last_id: int) -> None:
    """Count the customers an import chunk just inserted (ids ``first_id``..``last_id`` of
    batch ``batch_id``), inside the chunk's transaction. PostgreSQL's statement-level
    triggers have counted them already."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cur:
        for sql in tally_sql.imported_customers():
            cur.execute(sql, [batch_id, first_id, last_id])


def uninstall(*_args: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for sql in tally_pg.postgres_uninstall():
                cur.execute(sql)
            return
        for name in tally_sql.sqlite_triggers():
            cur.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed() -> bool:
    """Whether every trigger is in place."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'reports\\_%%'")
            return set(tally_pg.postgres_triggers()) <= {row[0] for row in cur.fetchall()}
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cur.fetchall()}
    return set(tally_sql.sqlite_triggers()) <= names


def rebuild() -> None:
    """Reinstall the triggers and recount every tally, in one transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Writers wait for the recount rather than update rows it is replacing.
            with connection.cursor() as cur:
                for table in tally_sql.TALLIES:
                    cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        install()
        with connection.cursor() as cur:
            for sql in tally_sql.rebuild_statements():
                cur.execute(sql)
    refresh_statistics()
    logger.info("report tallies rebuilt")


def refresh_statistics() -> None:
    """SQLite plans with the statistics ANALYZE leaves; without them it prefers the
    deleted_at index over the due-date ones. ``PRAGMA optimize`` analyses what needs it."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cur:
            cur.execute("PRAGMA optimize")


@dataclass
class Difference:
    table: str
    key: tuple
    tally: int
    fresh: int


@dataclass
class Verification:
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    triggers_missing: bool = False

    @property
    def ok(self) -> bool:
        return not self.differences and not self.triggers_missing


def _normalise(key: tuple) -> tuple:
    return tuple(str(part) for part in key)


def verify() -> Verification:
    """Every tally compared with a fresh count (one consistent snapshot on PostgreSQL)."""
    result = Verification(triggers_missing=not installed())
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cur:
        if snapshot:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for table, select in tally_sql.fresh_counts().items():
            cur.execute(select)
            fresh = {_normalise(row[:-1]): row[-1] for row in cur.fetchall()}
            cur.execute(f"SELECT {tally_sql.TALLIES[table]}, n FROM {table} WHERE n <> 0")
            kept = {_normalise(row[:-1]): row[-1] for row in cur.fetchall()}
            result.checked += len(fresh)
            for key in fresh.keys() | kept.keys():
                if fresh.get(key, 0) != kept.get(key, 0):
                    result.differences.append(
                        Difference(table, key, kept.get(key, 0), fresh.get(key, 0))
                    )
    return result


def verify_and_repair() -> dict[str, Any]:
    """The nightly job: verify; on any difference log it and rebuild."""
    refresh_statistics()
    result = verify()
    if result.ok:
        logger.info("report tallies verified: %s keys, no difference", result.checked)
        return {"checked": result.checked, "differences": 0, "rebuilt": False}
    logger.warning(
        "report tallies differ from a fresh count (%s differences, triggers missing: %s); "
        "rebuilding. First: %s",
        len(result.differences),
        result.triggers_missing,
        result.differences[:5],
    )
    rebuild()
    return {"checked": result.checked, "differences": len(result.differences), "rebuilt": True}
