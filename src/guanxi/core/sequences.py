"""Gap-tolerant, race-free counters in the database (works across processes and servers)."""

from __future__ import annotations

from django.db import connection, transaction


def next_value(key: str) -> int:
    """Atomically increment and return the counter ``key`` (created at 1)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_dailysequence (key, value) VALUES (%s, 1) "
            "ON CONFLICT (key) DO UPDATE SET value = core_dailysequence.value + 1 "
            "RETURNING value",
            [key],
        )
        return int(cur.fetchone()[0])


def reserve_block(key: str, size: int) -> int:
    """Reserve ``size`` consecutive values for a bulk load; returns the first of them."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_dailysequence (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = core_dailysequence.value + %s "
            "RETURNING value",
            [key, size, size],
        )
        return int(cur.fetchone()[0]) - size + 1
