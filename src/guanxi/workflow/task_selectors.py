"""Reading tasks: the caller's own by default, ``scope=team`` for whoever's task read scope
is wider than their own rows (a manager's department tree); always through ``restrict``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanxi.core.pagination import DEFAULT_LIMIT, Page, paginate
from guanxi.core.scopes import OWN, effective_scope
from guanxi.workflow.models import Task, TaskStatus
from guanxi.workflow.reminders import local_day

TABS = ("open", "today", "overdue", "done")
SCOPES = ("mine", "team")


def can_view_team(user: Any) -> bool:
    """Whether the team view shows more than the caller's own tasks: their task write
    scope (the tasks they manage) is wider than their own rows."""
    return effective_scope(user, "change", "task") not in (None, OWN)


def _tab_q(tab: str, now: dt.datetime) -> Q:
    _, start, end = local_day(now)
    is_open = Q(status=TaskStatus.OPEN)
    return {
        "open": is_open,
        "today": is_open & Q(due_at__gte=start, due_at__lt=end),
        "overdue": is_open & Q(due_at__lt=now),
        "done": Q(status=TaskStatus.DONE),
    }[tab]


def task_queryset(
    *,
    user: Any,
    scope: str = "mine",
    tab: str | None = None,
    customer_id: int | None = None,
    now: dt.datetime | None = None,
) -> QuerySet:
    """Tasks ``user`` may read: their own (``scope="mine"``), the ones they manage (``"team"``:
    read and write scope, so a service desk that reads every customer does not get every
    colleague's to-do list), or every readable one about a customer (``"customer"``)."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("workflow.view_task"):
        return Task.objects.none()
    qs = Task.objects.restrict(user, "view")
    if scope == "team":
        qs = qs.restrict(user, "change")
    elif scope != "customer":
        qs = qs.filter(assignee_id=user.pk)
    if tab:
        qs = qs.filter(_tab_q(tab, now or timezone.now()))
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


def task_list(
    *,
    user: Any,
    scope: str = "mine",
    tab: str = "open",
    customer_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    now: dt.datetime | None = None,
) -> Page:
    """One keyset page: open tabs by due time (soonest first), done by completion (newest)."""
    qs = task_queryset(user=user, scope=scope, tab=tab, customer_id=customer_id, now=now)
    qs = qs.select_related("customer", "assignee")
    ordering = "-completed_at" if tab == "done" else "due_at"
    return paginate(qs, ordering=ordering, cursor=cursor, limit=limit)


def tab_counts(*, user: Any, scope: str = "mine", now: dt.datetime | None = None) -> dict[str, int]:
    """Open / due today / overdue counts for the tab badges, in one query."""
    now = now or timezone.now()
    qs = task_queryset(user=user, scope=scope).order_by()
    return qs.aggregate(
        **{tab: Count("pk", filter=_tab_q(tab, now)) for tab in ("open", "today", "overdue")}
    )


def customer_open_tasks(*, user: Any, customer_id: int, limit: int = 5) -> tuple[list[Task], int]:
    """The open tasks about one customer that ``user`` may read (the customer page block):
    the first ``limit`` by due time, and how many there are."""
    qs = task_queryset(user=user, scope="customer", tab="open", customer_id=customer_id)
    rows = list(qs.select_related("assignee").order_by("due_at", "pk")[: limit + 1])
    if len(rows) <= limit:
        return rows, len(rows)
    return rows[:limit], qs.count()
