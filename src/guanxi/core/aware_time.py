"""User-given moments made storable: aware, and in UTC.

ISO 8601 allows offsets up to ±23:59 and Python parses them; PostgreSQL refuses offsets
beyond ±15:59 ("time zone displacement out of range"). Converting to UTC before a value
reaches the database keeps the instant and removes the offset.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def storable(value: dt.datetime) -> dt.datetime | None:
    """``value`` as an aware UTC datetime (naive values are local time); None when the
    instant falls outside the years a datetime can hold."""
    try:
        aware = timezone.make_aware(value) if timezone.is_naive(value) else value
        return aware.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
