"""PostgreSQL triggers of the report tallies: statement-level, over transition tables.

One aggregated upsert per tally per statement (a bulk COPY of an import included), rows
locked in key order so concurrent writers queue rather than deadlock.
"""

from __future__ import annotations

from guanxi.reports.tally_sql import CHANGES, CUSTOMERS, DIMENSIONS, FOLLOW_UPS, _upsert, day_of

_CUST_COLS = (
    "id, status, category, industry, source, customer_type, province, city, owner_id, "
    "department_id, created_at, deleted_at"
)


def _signed(columns: str, op: str) -> str:
    """Rows of the transition tables with a sign: +1 for new rows, -1 for old ones."""
    parts = []
    if op in ("UPDATE", "DELETE"):
        parts.append(f"SELECT {columns}, -1 AS s FROM old_rows WHERE deleted_at IS NULL")
    if op in ("UPDATE", "INSERT"):
        parts.append(f"SELECT {columns}, 1 AS s FROM new_rows WHERE deleted_at IS NULL")
    return " UNION ALL ".join(parts)


def _customer_statements(op: str) -> list[str]:
    values = ", ".join(f"('{dim}', {expr.format(r='r')})" for dim, expr in DIMENSIONS.items())
    rows = _signed(_CUST_COLS, op)
    return [
        f"WITH r AS ({rows}) "
        "INSERT INTO reports_customertally (dimension, value, owner_id, department_id, n) "
        "SELECT v.dimension, v.value, r.owner_id, COALESCE(r.department_id, 0), SUM(r.s) "
        f"FROM r CROSS JOIN LATERAL (VALUES {values}) AS v(dimension, value) "
        "GROUP BY 1, 2, 3, 4 HAVING SUM(r.s) <> 0 ORDER BY 1, 2, 3, 4 "
        f"{_upsert('reports_customertally')}",
        f"WITH r AS ({rows}) "
        "INSERT INTO reports_customerdaytally (day, owner_id, department_id, n) "
        f"SELECT {day_of('r.created_at', 'postgresql')}, r.owner_id, "
        "COALESCE(r.department_id, 0), SUM(r.s) FROM r GROUP BY 1, 2, 3 "
        f"HAVING SUM(r.s) <> 0 ORDER BY 1, 2, 3 {_upsert('reports_customerdaytally')}",
    ]


def _children_statements(op: str) -> list[str]:
    """A customer's follow-ups and status changes follow its owner, department and life."""
    if op == "INSERT":
        return []
    if op == "DELETE":
        keys = (
            "SELECT id, owner_id, COALESCE(department_id, 0) AS department_id, -1 AS s "
            "FROM old_rows WHERE deleted_at IS NULL"
        )
    else:
        keys = (
            "WITH m AS (SELECT o.id, o.owner_id AS oo, COALESCE(o.department_id, 0) AS od, "
            "o.deleted_at IS NULL AS oa, n.owner_id AS no, COALESCE(n.department_id, 0) AS nd, "
            "n.deleted_at IS NULL AS na FROM old_rows o JOIN new_rows n ON n.id = o.id "
            "WHERE (o.owner_id, COALESCE(o.department_id, 0), o.deleted_at IS NULL) "
            "IS DISTINCT FROM (n.owner_id, COALESCE(n.department_id, 0), n.deleted_at IS NULL)) "
            "SELECT id, oo AS owner_id, od AS department_id, -1 AS s FROM m WHERE oa "
            "UNION ALL SELECT id, no, nd, 1 FROM m WHERE na"
        )
    return [
        f"WITH k AS ({keys}) "
        "INSERT INTO reports_followuptally (day, follower_id, owner_id, department_id, n) "
        f"SELECT {day_of('f.followed_at', 'postgresql')}, f.owner_id, k.owner_id, "
        f"k.department_id, SUM(k.s) FROM k JOIN {FOLLOW_UPS} f ON f.customer_id = k.id "
        "AND f.deleted_at IS NULL GROUP BY 1, 2, 3, 4 HAVING SUM(k.s) <> 0 "
        f"ORDER BY 1, 2, 3, 4 {_upsert('reports_followuptally')}",
        f"WITH k AS ({keys}) "
        "INSERT INTO reports_statuschangetally "
        "(day, from_status, to_status, owner_id, department_id, n) "
        f"SELECT {day_of('c.changed_at', 'postgresql')}, c.from_status, c.to_status, "
        f"k.owner_id, k.department_id, SUM(k.s) FROM k JOIN {CHANGES} c "
        "ON c.customer_id = k.id GROUP BY 1, 2, 3, 4, 5 HAVING SUM(k.s) <> 0 "
        f"ORDER BY 1, 2, 3, 4, 5 {_upsert('reports_statuschangetally')}",
    ]


def _follow_up_statements(op: str) -> list[str]:
    rows = _signed("customer_id, owner_id, followed_at", op)
    return [
        f"WITH r AS ({rows}) "
        "INSERT INTO reports_followuptally (day, follower_id, owner_id, department_id, n) "
        f"SELECT {day_of('r.followed_at', 'postgresql')}, r.owner_id, c.owner_id, "
        f"COALESCE(c.department_id, 0), SUM(r.s) FROM r JOIN {CUSTOMERS} c "
        "ON c.id = r.customer_id AND c.deleted_at IS NULL GROUP BY 1, 2, 3, 4 "
        f"HAVING SUM(r.s) <> 0 ORDER BY 1, 2, 3, 4 {_upsert('reports_followuptally')}"
    ]


def _change_statements(op: str) -> list[str]:
    cols = "customer_id, from_status, to_status, changed_at"
    parts = []
    if op in ("UPDATE", "DELETE"):
        parts.append(f"SELECT {cols}, -1 AS s FROM old_rows")
    if op in ("UPDATE", "INSERT"):
        parts.append(f"SELECT {cols}, 1 AS s FROM new_rows")
    return [
        f"WITH r AS ({' UNION ALL '.join(parts)}) "
        "INSERT INTO reports_statuschangetally "
        "(day, from_status, to_status, owner_id, department_id, n) "
        f"SELECT {day_of('r.changed_at', 'postgresql')}, r.from_status, r.to_status, "
        f"c.owner_id, COALESCE(c.department_id, 0), SUM(r.s) FROM r JOIN {CUSTOMERS} c "
        "ON c.id = r.customer_id AND c.deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5 "
        f"HAVING SUM(r.s) <> 0 ORDER BY 1, 2, 3, 4, 5 {_upsert('reports_statuschangetally')}"
    ]


_TABLES = {
    "cust": (CUSTOMERS, lambda op: _customer_statements(op) + _children_statements(op)),
    "fu": (FOLLOW_UPS, _follow_up_statements),
    "sc": (CHANGES, _change_statements),
}
_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def postgres_functions() -> list[str]:
    """The trigger functions (CREATE OR REPLACE: safe inside a busy transaction)."""
    out = []
    for short, (_table, statements) in _TABLES.items():
        for op in ("INSERT", "UPDATE", "DELETE"):
            body = "".join(f"{s};\n" for s in statements(op))
            out.append(
                f"CREATE OR REPLACE FUNCTION reports_{short}_{op.lower()}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$\nBEGIN\n{body}RETURN NULL;\nEND $$"
            )
    return out


def postgres_triggers() -> dict[str, str]:
    """Trigger name -> CREATE TRIGGER (created only where missing)."""
    out = {}
    for short, (table, _statements) in _TABLES.items():
        for op in ("INSERT", "UPDATE", "DELETE"):
            name = f"reports_{short}_{op.lower()}"
            out[name] = (
                f"CREATE TRIGGER {name} AFTER {op} ON {table} {_REFERENCING[op]} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    return out


def postgres_uninstall() -> list[str]:
    out = []
    for short, (table, _statements) in _TABLES.items():
        for op in ("insert", "update", "delete"):
            out.append(f"DROP TRIGGER IF EXISTS reports_{short}_{op} ON {table}")
            out.append(f"DROP FUNCTION IF EXISTS reports_{short}_{op}()")
    return out
