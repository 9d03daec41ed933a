"""The SQL that keeps the report tallies (reports.models) current, per database vendor.

Triggers, not application code, so every write path counts: services, raw bulk INSERT/COPY
of imports, merges, recycle bin and restore, owner transfers, status changes.

- SQLite: row-level triggers, each firing only when a counted column really changed; an
  import's inserts are counted per chunk instead (``imported_customers``).
- PostgreSQL: statement-level triggers over transition tables, so a bulk statement of 100,000
  rows costs one aggregated upsert per tally, not 100,000.

Days are local dates in settings.TIME_ZONE. PostgreSQL converts with the zone name itself;
SQLite has no zone database, so its triggers carry the zone's UTC offset at install time
(exact for zones without daylight saving, such as Asia/Shanghai). After changing
GUANXI_TIME_ZONE run ``guanxi reports_tally --rebuild``: it reinstalls the triggers and
recounts.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

CUSTOMERS = "customers_customer"
FOLLOW_UPS = "customers_followup"
CHANGES = "customers_statuschange"
# Dimension -> SQL over a customer row ``r`` (city: "province/city", "" when both empty).
DIMENSIONS = {
    "status": "{r}.status",
    "category": "{r}.category",
    "industry": "{r}.industry",
    "source": "{r}.source",
    "customer_type": "{r}.customer_type",
    "province": "{r}.province",
    "city": "CASE WHEN {r}.province = '' AND {r}.city = '' THEN '' "
    "ELSE {r}.province || '/' || {r}.city END",
}
UPSERT = "ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n"
TALLIES = {
    "reports_customertally": "dimension, value, owner_id, department_id",
    "reports_customerdaytally": "day, owner_id, department_id",
    "reports_statuschangetally": "day, from_status, to_status, owner_id, department_id",
    "reports_followuptally": "day, follower_id, owner_id, department_id",
}


def _upsert(table: str) -> str:
    return UPSERT.format(key=TALLIES[table], table=table)


def sqlite_offset_minutes() -> int:
    offset = dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).utcoffset() or dt.timedelta()
    return int(offset.total_seconds() // 60)


def day_of(column: str, vendor: str | None = None) -> str:
    """SQL for the local date of a UTC timestamp column."""
    if (vendor or connection.vendor) == "postgresql":
        return f"(({column}) AT TIME ZONE '{settings.TIME_ZONE}')::date"
    return f"date({column}, '{sqlite_offset_minutes():+d} minutes')"


def _dept(r: str) -> str:
    return f"COALESCE({r}.department_id, 0)"


# -- fresh counts (verify) and rebuild ---------------------------------------------------------


def fresh_counts() -> dict[str, str]:
    """Per tally, a SELECT of (key columns..., n) counted from the source tables."""
    alive = "r.deleted_at IS NULL"
    dims = " UNION ALL ".join(
        f"SELECT '{dim}', {expr.format(r='r')}, r.owner_id, {_dept('r')}, COUNT(*) "
        f"FROM {CUSTOMERS} r WHERE {alive} GROUP BY 2, 3, 4"
        for dim, expr in DIMENSIONS.items()
    )
    return {
        "reports_customertally": dims,
        "reports_customerdaytally": (
            f"SELECT {day_of('r.created_at')}, r.owner_id, {_dept('r')}, COUNT(*) "
            f"FROM {CUSTOMERS} r WHERE {alive} GROUP BY 1, 2, 3"
        ),
        "reports_statuschangetally": (
            f"SELECT {day_of('s.changed_at')}, s.from_status, s.to_status, r.owner_id, "
            f"{_dept('r')}, COUNT(*) FROM {CHANGES} s JOIN {CUSTOMERS} r ON r.id = s.customer_id "
            f"WHERE {alive} GROUP BY 1, 2, 3, 4, 5"
        ),
        "reports_followuptally": (
            f"SELECT {day_of('f.followed_at')}, f.owner_id, r.owner_id, {_dept('r')}, COUNT(*) "
            f"FROM {FOLLOW_UPS} f JOIN {CUSTOMERS} r ON r.id = f.customer_id "
            f"WHERE {alive} AND f.deleted_at IS NULL GROUP BY 1, 2, 3, 4"
        ),
    }


def rebuild_statements() -> list[str]:
    out = []
    for table, select in fresh_counts().items():
        out.append(f"DELETE FROM {table}")
        out.append(f"INSERT INTO {table} ({TALLIES[table]}, n) {select}")
    return out


# -- SQLite: an import chunk's customers, counted in bulk ------------------------------------

IMPORTED = (
    f"FROM {CUSTOMERS} r WHERE r.import_batch_id = %s AND r.id BETWEEN %s AND %s "
    "AND r.deleted_at IS NULL"
)


def imported_customers() -> list[str]:
    """SQLite: the tally upserts for the customers of one import chunk (parameters: batch
    id, first id, last id). The insert trigger leaves import rows to these, as the search
    index does: one grouped statement per tally instead of eight upserts a row."""
    out = [
        "INSERT INTO reports_customertally (dimension, value, owner_id, department_id, n) "
        f"SELECT '{dim}', {expr.format(r='r')}, r.owner_id, {_dept('r')}, COUNT(*) "
        f"{IMPORTED} GROUP BY 2, 3, 4 {_upsert('reports_customertally')}"
        for dim, expr in DIMENSIONS.items()
    ]
    out.append(
        "INSERT INTO reports_customerdaytally (day, owner_id, department_id, n) "
        f"SELECT {day_of('r.created_at', 'sqlite')}, r.owner_id, {_dept('r')}, COUNT(*) "
        f"{IMPORTED} GROUP BY 1, 2, 3 {_upsert('reports_customerdaytally')}"
    )
    return out


# -- SQLite: row-level triggers ------------------------------------------------------------------


def _sqlite_customer(r: str, sign: int) -> list[str]:
    values = " UNION ALL ".join(
        f"SELECT '{dim}' AS d, {expr.format(r=r)} AS v" for dim, expr in DIMENSIONS.items()
    )
    return [
        "INSERT INTO reports_customertally (dimension, value, owner_id, department_id, n) "
        f"SELECT d, v, {r}.owner_id, {_dept(r)}, {sign} FROM ({values}) "
        f"WHERE 1 {_upsert('reports_customertally')}",
        "INSERT INTO reports_customerdaytally (day, owner_id, department_id, n) "
        f"VALUES ({day_of(f'{r}.created_at', 'sqlite')}, {r}.owner_id, {_dept(r)}, {sign}) "
        f"{_upsert('reports_customerdaytally')}",
    ]


def _sqlite_children(r: str, sign: int) -> list[str]:
    """Move a customer's follow-ups and status changes in or out of its (owner, department)."""
    return [
        "INSERT INTO reports_followuptally (day, follower_id, owner_id, department_id, n) "
        f"SELECT {day_of('f.followed_at', 'sqlite')}, f.owner_id, {r}.owner_id, {_dept(r)}, "
        f"{sign} * COUNT(*) FROM {FOLLOW_UPS} f WHERE f.customer_id = {r}.id "
        f"AND f.deleted_at IS NULL GROUP BY 1, 2 {_upsert('reports_followuptally')}",
        "INSERT INTO reports_statuschangetally "
        "(day, from_status, to_status, owner_id, department_id, n) "
        f"SELECT {day_of('s.changed_at', 'sqlite')}, s.from_status, s.to_status, {r}.owner_id, "
        f"{_dept(r)}, {sign} * COUNT(*) FROM {CHANGES} s WHERE s.customer_id = {r}.id "
        f"GROUP BY 1, 2, 3 {_upsert('reports_statuschangetally')}",
    ]


def _sqlite_follow_up(r: str, sign: int) -> list[str]:
    return [
        "INSERT INTO reports_followuptally (day, follower_id, owner_id, department_id, n) "
        f"SELECT {day_of(f'{r}.followed_at', 'sqlite')}, {r}.owner_id, c.owner_id, "
        f"{_dept('c')}, {sign} FROM {CUSTOMERS} c WHERE c.id = {r}.customer_id "
        f"AND c.deleted_at IS NULL {_upsert('reports_followuptally')}"
    ]


def _sqlite_change(r: str, sign: int) -> list[str]:
    return [
        "INSERT INTO reports_statuschangetally "
        "(day, from_status, to_status, owner_id, department_id, n) "
        f"SELECT {day_of(f'{r}.changed_at', 'sqlite')}, {r}.from_status, {r}.to_status, "
        f"c.owner_id, {_dept('c')}, {sign} FROM {CUSTOMERS} c WHERE c.id = {r}.customer_id "
        f"AND c.deleted_at IS NULL {_upsert('reports_statuschangetally')}"
    ]


def _changed(columns: list[str]) -> str:
    return "(" + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns) + ")"


def _trigger(name: str, event: str, table: str, when: str, body: list[str]) -> str:
    statements = "".join(f"{s};\n" for s in body)
    return (
        f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} "
        f"FOR EACH ROW WHEN {when} BEGIN\n{statements}END"
    )


CUSTOMER_COLUMNS = [
    "status",
    "category",
    "industry",
    "source",
    "customer_type",
    "province",
    "city",
    "owner_id",
    "department_id",
    "created_at",
    "deleted_at",
]
SCOPE_COLUMNS = ["owner_id", "department_id"]
OLD_ALIVE, NEW_ALIVE = "OLD.deleted_at IS NULL", "NEW.deleted_at IS NULL"
ALIVE_FLIPPED = "((OLD.deleted_at IS NULL) IS NOT (NEW.deleted_at IS NULL))"


def sqlite_triggers(import_exception: bool = True) -> dict[str, str]:
    """The SQLite triggers. With ``import_exception`` (once customers have their import
    batch column) rows an import inserts are left to ``imported_customers``."""
    cust_changed = _changed(CUSTOMER_COLUMNS)
    inserted = f"{NEW_ALIVE} AND NEW.import_batch_id IS NULL" if import_exception else NEW_ALIVE
    moved = f"({_changed(SCOPE_COLUMNS)} OR {ALIVE_FLIPPED})"
    fu_cols = ["followed_at", "owner_id", "customer_id", "deleted_at"]
    sc_cols = ["changed_at", "from_status", "to_status", "customer_id"]
    specs = [
        ("reports_cust_ai", "INSERT", CUSTOMERS, inserted, _sqlite_customer("NEW", 1)),
        (
            "reports_cust_ad",
            "DELETE",
            CUSTOMERS,
            OLD_ALIVE,
            _sqlite_customer("OLD", -1) + _sqlite_children("OLD", -1),
        ),
        (
            "reports_cust_au_old",
            "UPDATE",
            CUSTOMERS,
            f"{OLD_ALIVE} AND {cust_changed}",
            _sqlite_customer("OLD", -1),
        ),
        (
            "reports_cust_au_new",
            "UPDATE",
            CUSTOMERS,
            f"{NEW_ALIVE} AND {cust_changed}",
            _sqlite_customer("NEW", 1),
        ),
        (
            "reports_cust_move_old",
            "UPDATE",
            CUSTOMERS,
            f"{OLD_ALIVE} AND {moved}",
            _sqlite_children("OLD", -1),
        ),
        (
            "reports_cust_move_new",
            "UPDATE",
            CUSTOMERS,
            f"{NEW_ALIVE} AND {moved}",
            _sqlite_children("NEW", 1),
        ),
        ("reports_fu_ai", "INSERT", FOLLOW_UPS, NEW_ALIVE, _sqlite_follow_up("NEW", 1)),
        ("reports_fu_ad", "DELETE", FOLLOW_UPS, OLD_ALIVE, _sqlite_follow_up("OLD", -1)),
        (
            "reports_fu_au_old",
            "UPDATE",
            FOLLOW_UPS,
            f"{OLD_ALIVE} AND {_changed(fu_cols)}",
            _sqlite_follow_up("OLD", -1),
        ),
        (
            "reports_fu_au_new",
            "UPDATE",
            FOLLOW_UPS,
            f"{NEW_ALIVE} AND {_changed(fu_cols)}",
            _sqlite_follow_up("NEW", 1),
        ),
        ("reports_sc_ai", "INSERT", CHANGES, "1", _sqlite_change("NEW", 1)),
        ("reports_sc_ad", "DELETE", CHANGES, "1", _sqlite_change("OLD", -1)),
        (
            "reports_sc_au",
            "UPDATE",
            CHANGES,
            _changed(sc_cols),
            _sqlite_change("OLD", -1) + _sqlite_change("NEW", 1),
        ),
    ]
    return {
        name: _trigger(name, event, table, when, body) for name, event, table, when, body in specs
    }
