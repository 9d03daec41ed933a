"""Keyset (cursor) pagination: page 20,000 costs what page 1 costs.

A cursor is an opaque base64 of ``[sort value, id, direction]``; ordering is one allow-listed
field plus ``id`` as the tie-breaker, both in the same direction so one index serves it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class BadCursor(ValueError):
    """The cursor was not produced by us (or for another ordering)."""


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def _encode(value: Any, pk: int, ordering: str, backwards: bool) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk, ordering, backwards], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, ordering: str) -> tuple[Any, int, bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk, cursor_ordering, backwards = json.loads(base64.urlsafe_b64decode(padded))
        if cursor_ordering != ordering or not isinstance(pk, int):
            raise BadCursor(cursor)
        return value, pk, bool(backwards)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor(cursor) from exc


def cursor_position(cursor: str | None, ordering: str) -> tuple[int | None, bool]:
    """(id, backwards) a cursor points at, (None, False) without one; BadCursor if foreign."""
    if not cursor:
        return None, False
    _, pk, backwards = _decode(cursor, ordering)
    return pk, backwards


def _after(field: str, value: Any, pk: int, descending: bool) -> Q:
    op = "lt" if descending else "gt"
    if field == "id":
        return Q(**{f"id__{op}": pk})
    return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk})


def page_limit(limit: int) -> int:
    """A requested page size within 1..MAX_LIMIT (every keyset page uses the same bounds)."""
    return max(1, min(int(limit), MAX_LIMIT))


def paginate(
    qs: QuerySet, *, ordering: str, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    """One page of ``qs`` ordered by ``ordering`` ("-created_at", "name", ...)."""
    limit = page_limit(limit)
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    backwards = False
    if cursor:
        value, pk, backwards = _decode(cursor, ordering)
        if field.endswith("_at") and isinstance(value, str):
            value = parse_datetime(value)
        qs = qs.filter(_after(field, value, pk, descending != backwards))
    direction = "-" if descending != backwards else ""
    order = [f"{direction}{field}"] + ([] if field == "id" else [f"{direction}id"])
    rows = list(qs.order_by(*order)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        first, last = rows[0], rows[-1]
        if has_more or backwards:
            next_cursor = _encode(getattr(last, field), last.pk, ordering, False)
        if cursor and (not backwards or has_more):
            prev_cursor = _encode(getattr(first, field), first.pk, ordering, True)
    return Page(items=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)
