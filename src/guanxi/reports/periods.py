"""Calendar buckets of the time-series reports: days, ISO weeks and months, in local dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PERIODS = ("day", "week", "month")
# Longest range per period: keeps a series drawable and a request bounded.
MAX_BUCKETS = {"day": 400, "week": 530, "month": 240}


@dataclass(frozen=True)
class Bucket:
    key: str
    start: dt.date
    end: dt.date  # inclusive


def bucket_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_start(start: dt.date, period: str) -> dt.date:
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def bucket_key(start: dt.date, period: str) -> str:
    if period == "month":
        return start.strftime("%Y-%m")
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.isoformat()


def buckets(period: str, date_from: dt.date, date_to: dt.date) -> list[Bucket]:
    """Every bucket touching [date_from, date_to], clipped to the range (zeros included)."""
    out: list[Bucket] = []
    start = bucket_start(date_from, period)
    while start <= date_to:
        following = _next_start(start, period)
        out.append(
            Bucket(
                key=bucket_key(start, period),
                start=max(start, date_from),
                end=min(following - dt.timedelta(days=1), date_to),
            )
        )
        start = following
    return out


def bucket_count(period: str, date_from: dt.date, date_to: dt.date) -> int:
    """How many buckets ``buckets`` would make, without making them."""
    first, last = bucket_start(date_from, period), bucket_start(date_to, period)
    if period == "day":
        return (last - first).days + 1
    if period == "week":
        return (last - first).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1
