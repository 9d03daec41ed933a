"""Rows of a queryset for an export, fast: the queryset's own SQL (scope and filters as the
selector built them), a few columns, fetched in chunks from a server-side cursor, and
none of the ORM's per-value conversion.

At 50,000 rows the ORM's converters cost more than the query: every encrypted field is
decrypted (also for columns nobody shows), every timestamp parsed and made aware, every
JSON value loaded, each through several Python calls. An export decrypts only the personal
values it shows and has the database format times as text (dataio.local_time), so it takes
the raw values here and converts them itself (``Converters``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from guanxi.core.bulk_sql import select_in
from guanxi.core.crypto import bulk_decrypter
from guanxi.dataio.local_time import LocalTime, LocalTimes

__all__ = ["CHUNK", "Converters", "LocalTime", "pairs_for", "raw_chunks"]

CHUNK = 2000


def raw_chunks(qs: QuerySet, columns: Sequence[Any], chunk: int = CHUNK) -> Iterator[list[tuple]]:
    """Lists of up to ``chunk`` value tuples of ``columns`` (names or expressions such as
    ``LocalTime``), in the queryset's order."""
    query = qs.values_list(*columns).query
    sql, params = query.get_compiler(using=qs.db).as_sql()
    if not sql:
        return  # an empty queryset (``.none()``) compiles to nothing
    connection = connections[qs.db]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            yield rows


class Converters:
    """Raw database values to export values, the same on SQLite and PostgreSQL."""

    def __init__(self) -> None:
        self.plain = bulk_decrypter()  # personal value (``key$base64``) to plain text
        self.local = LocalTimes().local  # LocalTime column to local text

    def plain_column(self, tokens: Sequence[str]) -> list[str]:
        plain = self.plain
        return [plain(t) if t else "" for t in tokens]

    @staticmethod
    def date(value: Any) -> str:
        if value is None or value == "":
            return ""
        return value if isinstance(value, str) else value.isoformat()

    @staticmethod
    def json(value: Any) -> Any:
        if isinstance(value, str | bytes):
            return json.loads(value) if value else None
        return value


def pairs_for(sql: str, ids: Sequence[int]) -> list[tuple]:
    """Rows of ``sql`` (with one ``IN ({ids})`` placeholder) for a chunk's ids: the lookups
    beside the main query (tags and the like), without the ORM's cost per parameter.

    Dense ids (an unfiltered list comes in runs of ids) are asked for as one range, three
    times faster than a list of them; rows for ids in the range but not in ``ids`` may come
    back, and the caller ignores them. Other lists go as one parameter
    (``core.bulk_sql.select_in``)."""
    if not ids:
        return []
    low, high = min(ids), max(ids)
    if high - low >= 4 * len(ids):
        return select_in(sql.replace("IN ({ids})", "IN ({values})"), ids)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql.replace("IN ({ids})", "BETWEEN %s AND %s"), [low, high])
        return cursor.fetchall()
