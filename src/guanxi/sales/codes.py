"""Contract and order numbers: HTyyyymmddNNNN and DDyyyymmddNNNN, unique under concurrent
creation (the same per-day counters as customer codes)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from guanxi.core.sequences import next_value

PREFIXES = {"contract": "HT", "order": "DD"}


def next_code(kind: str, now: datetime | None = None) -> str:
    day = timezone.localtime(now or timezone.now()).strftime("%Y%m%d")
    return f"{PREFIXES[kind]}{day}{next_value(f'{kind}:{day}'):04d}"
