"""Customer codes: CUSTyyyymmddNNNN, unique under concurrent creation (one SQL upsert)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from guanxi.core.sequences import next_value, reserve_block


def _day(now: datetime | None) -> str:
    return timezone.localtime(now or timezone.now()).strftime("%Y%m%d")


def format_code(day: str, number: int) -> str:
    # Four digits as specified; a day with more than 9,999 customers simply grows the width.
    return f"{settings.CUSTOMER_CODE_PREFIX}{day}{number:04d}"


def next_customer_code(now: datetime | None = None) -> str:
    day = _day(now)
    return format_code(day, next_value(f"customer:{day}"))


def reserve_customer_codes(count: int, now: datetime | None = None) -> list[str]:
    day = _day(now)
    first = reserve_block(f"customer:{day}", count)
    return [format_code(day, n) for n in range(first, first + count)]
