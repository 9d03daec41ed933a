"""Many rows into one table in one round: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

The bulk paths (imports, demo data, benchmarks) write through here, behind their services'
validation and audit. Measured for customer rows with their indexes: PostgreSQL's pipelined
``executemany`` spends ~0.5 ms a row where COPY needs a fraction of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def insert_many(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, values adapted for the database)."""
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
        placeholders = ", ".join(["%s"] * len(columns))
        cur.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders})", rows)
