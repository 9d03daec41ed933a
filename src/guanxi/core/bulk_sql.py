"""Many rows into one table in one round: ``COPY`` on PostgreSQL, multi-row ``INSERT ...
VALUES`` statements on SQLite.

The bulk paths (imports, demo data, benchmarks) write through here, behind their services'
validation and audit. Measured for customer rows with their indexes: PostgreSQL's pipelined
``executemany`` spends ~0.5 ms a row where COPY needs a fraction of it.

SQLite: an ``executemany`` runs one INSERT statement per row, and a statement into a table
with a unique index and an AFTER INSERT trigger (the backup change log, the report tallies)
opens a statement journal that copies every page it touches before changing it. A statement
of many rows journals each page once per statement instead of once per row: 100,000
customer rows took 11.9 s through ``executemany`` and 6.3 s this way (bench/bench_import.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

# SQLite's default bound on the parameters of one statement (SQLITE_MAX_VARIABLE_NUMBER).
SQLITE_MAX_PARAMS = 32766


def insert_many(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, values adapted for the database) in
    order, so ids follow the order of ``rows``."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        start = 0
        for size in statement_sizes(len(rows), _sqlite_param_limit() // len(columns)):
            part = rows[start : start + size]
            start += size
            cur.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES " + ", ".join([one] * size),
                [value for row in part for value in row],
            )


# Rows per multi-row INSERT on SQLite (fewer where the parameter bound says so: 885 customer
# rows). A few hundred already pay the statement journal once for many rows; far larger
# statements only grow: the connection keeps its last 128 prepared statements, and one of
# 16,000 name-key rows holds megabytes (an import's statement cache reached 90 MB).
MAX_ROWS_PER_STATEMENT = 1024


def statement_sizes(count: int, param_bound: int) -> list[int]:
    """How many rows each multi-row INSERT of ``count`` rows takes: full statements, then the
    rest in powers of two, so every chunk of an import reuses the same few prepared
    statements instead of preparing (and caching) one of a new length each time."""
    full = max(1, min(MAX_ROWS_PER_STATEMENT, param_bound))
    sizes = [full] * (count // full)
    rest = count % full
    power = 1 << (full.bit_length() - 1)
    while rest:
        if rest >= power:
            sizes.append(power)
            rest -= power
        power >>= 1
    return sizes


_last_datetime: tuple[Any, Any] = (None, None)


def adapted_datetime(value: Any) -> Any:
    """``connection.ops.adapt_datetimefield_value`` for bulk rows, which mostly share one
    timestamp: the last value is remembered by identity (adapting costs ~5 µs a call, a
    tenth of building a row)."""
    global _last_datetime
    last = _last_datetime  # one read: another thread may replace it meanwhile
    if value is None or last[0] is not value:
        last = _last_datetime = (value, connection.ops.adapt_datetimefield_value(value))
    return last[1]


def _sqlite_param_limit() -> int:
    """The connection's own bound (Django's ``features.max_query_params`` says 999 whatever
    the build; builds since 3.32 allow 32,766)."""
    import sqlite3

    connection.ensure_connection()
    try:
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except (AttributeError, sqlite3.Error):
        return 999


def select_in(sql: str, values: Sequence[Any]) -> list[tuple]:
    """Rows of ``sql``, whose one ``IN ({values})`` placeholder takes ``values`` as a single
    parameter: an array (``= ANY``) on PostgreSQL, a JSON array (``json_each``) on SQLite.
    Imports look up thousands of keys per chunk, exports the tags of thousands of ids; one
    parameter binds in one step where a list of placeholders costs about 40% more."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        sql, params = sql.replace("IN ({values})", "= ANY(%s)"), [list(values)]
    else:
        sql = sql.replace("IN ({values})", "IN (SELECT value FROM json_each(%s))")
        params = [json.dumps(list(values))]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
