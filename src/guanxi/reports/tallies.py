"""Scope-only report answers read from the tallies (reports.models), never from a scan.

A tally row carries the customer's owner and department, so the caller's scope is the same
``scope_q`` the customer list applies, on the tally's columns; a role without the view
permission of customers (or follow-ups) gets nothing, as from the lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet, Sum

from guanxi.core.scopes import NOTHING, scope_q
from guanxi.reports.models import CustomerDayTally, CustomerTally, FollowUpTally, StatusChangeTally


class _TallyScope:
    """What ``scope_q`` needs to know of a tally: customer scope, on owner_id/department_id."""

    scope_object_type = "customer"
    scope_owner_field = "owner"
    scope_department_field = "department"


def _scope(user: Any, perm: str) -> Q | None:
    if not getattr(user, "is_authenticated", False) or not user.has_perm(perm):
        return NOTHING
    return scope_q(user, _TallyScope, "view")  # type: ignore[arg-type]


def _scoped(qs: QuerySet, user: Any, perm: str = "customers.view_customer") -> QuerySet:
    q = _scope(user, perm)
    return qs if q is None else qs.filter(q)


def _key(value: Any) -> str:
    return "" if value in (None, 0) else str(value)


def distribution(user: Any, by: str) -> dict[str, int]:
    """Live customers in scope per value of ``by`` (owner/department from the status rows)."""
    rows = _scoped(CustomerTally.objects.all(), user)
    if by in ("owner", "department"):
        column = f"{by}_id"
        rows = rows.filter(dimension="status").values_list(column)
    else:
        rows = rows.filter(dimension=by).values_list("value")
    counts: dict[str, int] = {}
    for value, n in rows.annotate(total=Sum("n")).order_by():
        if n:
            key = _key(value)
            counts[key] = counts.get(key, 0) + n
    return counts


def _per_day(qs: QuerySet) -> dict[dt.date, int]:
    rows = qs.values_list("day").annotate(total=Sum("n")).order_by()
    return {day: n for day, n in rows if n}


def new_per_day(user: Any, date_from: dt.date, date_to: dt.date) -> dict[dt.date, int]:
    """Live customers in scope per local creation date."""
    qs = CustomerDayTally.objects.filter(day__gte=date_from, day__lte=date_to)
    return _per_day(_scoped(qs, user))


def lost_per_day(user: Any, date_from: dt.date, date_to: dt.date) -> dict[dt.date, int]:
    """Changes to 流失 of live customers in scope, per local date."""
    qs = StatusChangeTally.objects.filter(day__gte=date_from, day__lte=date_to, to_status="lost")
    return _per_day(_scoped(qs, user))


def transitions(user: Any, date_from: dt.date, date_to: dt.date) -> dict[tuple[str, str], int]:
    qs = _scoped(StatusChangeTally.objects.filter(day__gte=date_from, day__lte=date_to), user)
    rows = qs.values_list("from_status", "to_status").annotate(total=Sum("n")).order_by()
    return {(f, t): n for f, t, n in rows if n}


def follow_ups_per_owner(user: Any, date_from: dt.date, date_to: dt.date) -> dict[str, int]:
    """Live follow-ups of live customers in scope, per follow-up owner (跟进人)."""
    qs = FollowUpTally.objects.filter(day__gte=date_from, day__lte=date_to)
    rows = _scoped(qs, user, "customers.view_followup").values_list("follower_id")
    return {str(o): n for o, n in rows.annotate(total=Sum("n")).order_by() if n}


def follow_ups_per_day(user: Any, date_from: dt.date, date_to: dt.date) -> dict[str, int]:
    """Live follow-ups of live customers in scope, per local day (ISO date keys)."""
    qs = FollowUpTally.objects.filter(day__gte=date_from, day__lte=date_to)
    rows = _scoped(qs, user, "customers.view_followup").values_list("day")
    return {
        (d if isinstance(d, str) else d.isoformat()): n
        for d, n in rows.annotate(total=Sum("n")).order_by()
        if n
    }


def owners_to_departments(per_owner: dict[str, int]) -> dict[str, int]:
    """Follow-up counts per owner -> per the owner's (current) department."""
    from guanxi.accounts.models import User

    depts = dict(
        User.objects.filter(pk__in=[int(k) for k in per_owner]).values_list("pk", "department_id")
    )
    out: dict[str, int] = {}
    for owner, n in per_owner.items():
        key = _key(depts.get(int(owner)))
        out[key] = out.get(key, 0) + n
    return out
