"""Contract and order numbers: HTyyyymmddNNNN and DDyyyymmddNNNN, unique under concurrent
creation (the same per-day counters as customer codes)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from guanxi.core.sequences import next_value, reserve_block

PREFIXES = {"contract": "HT", "order": "DD"}


def _day(now: datetime | None) -> str:
    return timezone.localtime(now or timezone.now()).strftime("%Y%m%d")


def next_code(kind: str, now: datetime | None = None) -> str:
    day = _day(now)
    return f"{PREFIXES[kind]}{day}{next_value(f'{kind}:{day}'):04d}"


def reserve_codes(kind: str, count: int, now: datetime | None = None) -> list[str]:
    """``count`` consecutive codes for a bulk load (the demo)."""
    day = _day(now)
    first = reserve_block(f"{kind}:{day}", count)
    return [f"{PREFIXES[kind]}{day}{n:04d}" for n in range(first, first + count)]
