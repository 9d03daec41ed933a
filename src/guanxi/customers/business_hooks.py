"""How modules that sell to a customer (contracts, orders, later tickets) take part in its
life cycle without the customers app importing them: they register here.

- A *delete check* names what still hangs on a customer (an open order, an unpaid amount),
  so a delete is refused with that reason.
- A *business source* says, for a customer row (``OuterRef("pk")``), when its last business
  ended and whether any is still running; the 流失预警 job reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Expression, Q
from django.db.models.functions import Coalesce, Greatest


@dataclass(frozen=True)
class BusinessDates:
    """``last_end``: a date expression (NULL when no business has ended); ``running``: a Q
    that holds while some business is still open."""

    last_end: Expression
    running: Q


DeleteCheck = Callable[[Any], "str | None"]
BusinessSource = Callable[[dt.date], BusinessDates]

_delete_checks: list[DeleteCheck] = []
_business_sources: list[BusinessSource] = []


def latest_date(*dates: Expression) -> Expression:
    """The latest of several nullable date expressions, NULL only when all are. (GREATEST is
    NULL on SQLite as soon as one argument is, so each falls back to the others.)"""
    if len(dates) == 1:
        return dates[0]
    return Greatest(*(Coalesce(d, *(o for o in dates if o is not d)) for d in dates))


def register_delete_check(check: DeleteCheck) -> None:
    """``check(customer)`` returns why the customer cannot be deleted, or None."""
    if check not in _delete_checks:
        _delete_checks.append(check)


def register_business_source(source: BusinessSource) -> None:
    if source not in _business_sources:
        _business_sources.append(source)


def delete_blockers(customer: Any) -> list[str]:
    """Every reason, in registration order, that keeps ``customer`` from the recycle bin."""
    return [reason for check in _delete_checks if (reason := check(customer))]


def business_sources(today: dt.date) -> list[BusinessDates]:
    return [source(today) for source in _business_sources]
