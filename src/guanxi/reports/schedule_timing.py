"""When a scheduled report is sent next: the first calendar moment strictly after a given
time, read in settings.TIME_ZONE (08:00 means 08:00 where the users are), returned in UTC.
A monthly schedule on the 31st goes out on the last day of shorter months."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=_zone())


def _month_day(year: int, month: int, day_of_month: int) -> dt.date:
    return dt.date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def next_occurrence(
    *,
    after: dt.datetime,
    frequency: str,
    time_of_day: dt.time,
    weekday: int | None = None,
    day_of_month: int | None = None,
) -> dt.datetime:
    """The first send time strictly after ``after`` (aware), in UTC."""
    local = after.astimezone(_zone())
    today = local.date()
    if frequency == "weekly":
        ahead = ((weekday or 0) - today.weekday()) % 7
        candidate = _at(today + dt.timedelta(days=ahead), time_of_day)
        step = dt.timedelta(days=7)
    elif frequency == "monthly":
        dom = day_of_month or 1
        candidate = _at(_month_day(today.year, today.month, dom), time_of_day)
        if candidate <= local:
            year, month0 = divmod(today.year * 12 + today.month, 12)  # the month after
            candidate = _at(_month_day(year, month0 + 1, dom), time_of_day)
        return candidate.astimezone(dt.UTC)
    else:
        candidate = _at(today, time_of_day)
        step = dt.timedelta(days=1)
    if candidate <= local:
        candidate = _at(candidate.date() + step, time_of_day)
    return candidate.astimezone(dt.UTC)


def schedule_next_run(schedule: Any, after: dt.datetime) -> dt.datetime:
    """``next_occurrence`` for a ReportSchedule."""
    return next_occurrence(
        after=after,
        frequency=schedule.frequency,
        time_of_day=schedule.time_of_day,
        weekday=schedule.weekday,
        day_of_month=schedule.day_of_month,
    )
