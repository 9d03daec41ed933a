"""Stored timestamps as local ``YYYY-MM-DD HH:MM:SS`` text, fast, for exports.

Loading a timestamp into Python and converting it costs more than everything else done to
it in an export, so the database writes the text where it can: PostgreSQL with its own
time zone data (``AT TIME ZONE``, DST included); SQLite with a fixed offset for every
timestamp after the zone's last change of offset (Asia/Shanghai: since 1991), the rare
older one marked and converted in Python (``LocalTimes``). A zone that still changes its
offset (DST) is converted in Python throughout.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Func, TextField
from django.utils import timezone

UTC_MARK = "U"  # SQLite: stored UTC text, for LocalTimes to convert
LAST_DAY = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def _zone_name() -> str:
    return timezone.get_current_timezone_name()


@lru_cache(maxsize=8)
def fixed_offset_since(zone_name: str) -> tuple[str, int] | None:
    """(UTC time as stored text, offset in seconds): from that instant on, up to 2100, the
    zone's offset never changes; None for a zone that keeps changing it (DST). Found by
    stepping back a day at a time from 2100, then an hour at a time (once per process)."""
    zone = ZoneInfo(zone_name)
    final = LAST_DAY.astimezone(zone).utcoffset()
    day = LAST_DAY
    while day.year > 1900 and day.astimezone(zone).utcoffset() == final:
        day -= dt.timedelta(days=1)
    if day.year <= 1900:
        return "0001-01-01 00:00:00", int(final.total_seconds())
    if LAST_DAY - day < dt.timedelta(days=366):
        return None  # changes every year: daylight saving time
    while day.astimezone(zone).utcoffset() != final:
        day += dt.timedelta(hours=1)
    return day.strftime("%Y-%m-%d %H:%M:%S"), int(final.total_seconds())


class LocalTime(Func):
    """A timestamp column as local ``YYYY-MM-DD HH:MM:SS`` text made by the database where it
    can (see the module); otherwise the stored value, for ``LocalTimes``."""

    output_field = TextField()

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return compiler.compile(self.get_source_expressions()[0])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        fixed = fixed_offset_since(_zone_name())
        if fixed is None:
            return f"'{UTC_MARK}' || {sql}", [*params]
        since, seconds = fixed
        return (
            f"CASE WHEN {sql} >= %s THEN strftime('%%Y-%%m-%%d %%H:%%M:%%S', {sql}, %s) "
            f"ELSE '{UTC_MARK}' || {sql} END",
            [*params, since, *params, f"{seconds:+d} seconds", *params],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"to_char({sql} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", [*params, _zone_name()]


class LocalTimes:
    """What the database left to Python: stored timestamps (``datetime``, or UTC text marked
    ``U``) to local text, with the zone's offset worked out once per day, not per value."""

    def __init__(self) -> None:
        current = timezone.get_current_timezone()
        self.zone = current if isinstance(current, dt.tzinfo) else ZoneInfo(settings.TIME_ZONE)
        self._offsets: dict[int, dt.timedelta | None] = {}
        self.vendor = connections[DEFAULT_DB_ALIAS].vendor

    def _offset(self, day: int) -> dt.timedelta | None:
        """The zone's UTC offset for a whole UTC day, or None on a day it changes."""
        start = dt.datetime.fromordinal(day).replace(tzinfo=dt.UTC)
        first = start.astimezone(self.zone).utcoffset()
        last = (start + dt.timedelta(hours=23, minutes=59)).astimezone(self.zone).utcoffset()
        return first if first == last else None

    def local(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            if value[0] != UTC_MARK:
                return value  # local text made by the database
            value = dt.datetime.fromisoformat(value[1:])
        if value.tzinfo is not None:  # an aware timestamp: in UTC
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        day = value.toordinal()
        offset = self._offsets.get(day, False)
        if offset is False:
            offset = self._offsets[day] = self._offset(day)
        if offset is None:
            shifted = value.replace(tzinfo=dt.UTC).astimezone(self.zone).replace(tzinfo=None)
            return str(shifted)[:19]
        return str(value + offset)[:19]
