"""Money as people read it: yuan with thousands separators and two decimals, the same in
every language (unlike floatformat's locale-dependent grouping)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def money_text(value: Any, fallback: str = "") -> str:
    """``7500`` → ``"7,500.00"``; ``fallback`` when the value is not a number."""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return fallback
