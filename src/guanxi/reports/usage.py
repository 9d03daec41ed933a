"""使用情况分析: how each department uses Guanxi over a period — who signs in, which modules
they work in, whether follow-ups name a next step, and how complete their customer records are.

The people counted are the ones the viewer's customer scope reaches (all users, the viewer's
department or department tree, or the viewer alone), so a manager sees their team and a
sales rep sees themselves. Customers and follow-ups are read through the same scoped
selectors as every list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, Q

from guanxi.accounts.models import Department, LoginAttempt, User
from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.core.scopes import ALL, DEPARTMENT_TREE, OWN, department_ids, effective_scope
from guanxi.customers.follow_up_selectors import follow_up_queryset
from guanxi.customers.selectors import customer_queryset

NO_DEPARTMENT = 0  # users and customers filed under no department


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of date_from, start of the day after date_to) in the configured time zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def people_in_scope(user: Any) -> dict[int, int]:
    """Active users the viewer's customer scope reaches: user id -> department id."""
    scope = effective_scope(user, "view", "customer")
    users = User.objects.filter(is_active=True)
    if scope is None:
        return {}
    if scope == OWN:
        users = users.filter(pk=user.pk)
    elif scope != ALL:
        ids = department_ids(user, with_descendants=scope == DEPARTMENT_TREE)
        users = users.filter(Q(department_id__in=ids) | Q(pk=user.pk))
    return {pk: dept or NO_DEPARTMENT for pk, dept in users.values_list("pk", "department_id")}


def module_of(action: str) -> str:
    """The module an audited action belongs to: the part before the first dot."""
    return action.split(".", 1)[0]


def usage_summary(*, user: Any, date_from: dt.date, date_to: dt.date) -> dict[str, Any]:
    """Per department: users, users who signed in, audited actions, follow-ups (and how many
    name a next step), customers and their average completeness; and actions per module."""
    people = people_in_scope(user)
    start, end = _bounds(date_from, date_to)
    rows: dict[int, dict[str, Any]] = defaultdict(
        lambda: (
            dict.fromkeys(
                ("users", "signed_in", "actions", "follow_ups", "with_next_step", "customers"), 0
            )
            | {"completeness": None}
        )
    )
    for dept in people.values():
        rows[dept]["users"] += 1
    signed_in = (
        LoginAttempt.objects.filter(success=True, occurred_at__gte=start, occurred_at__lt=end)
        .filter(user_id__in=list(people))
        .order_by()  # the model's ordering would make DISTINCT count every attempt
        .values_list("user_id", flat=True)
        .distinct()
    )
    for user_id in signed_in:
        rows[people[user_id]]["signed_in"] += 1
    modules: dict[str, dict[str, Any]] = defaultdict(lambda: {"actions": 0, "users": set()})
    actions = (
        AuditEntry.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .filter(result=AuditResult.SUCCESS, actor_id__in=list(people))
        .values("actor_id", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    for entry in actions:
        rows[people[entry["actor_id"]]]["actions"] += entry["n"]
        module = modules[module_of(entry["action"])]
        module["actions"] += entry["n"]
        module["users"].add(entry["actor_id"])
    follow_ups = (
        follow_up_queryset(user)
        .select_related(None)
        .filter(followed_at__gte=start, followed_at__lt=end)
        .values("customer__department_id")
        .annotate(
            n=Count("id"),
            with_next=Count("id", filter=Q(next_follow_up_at__isnull=False) | ~Q(next_plan="")),
        )
        .order_by()
    )
    for group in follow_ups:
        row = rows[group["customer__department_id"] or NO_DEPARTMENT]
        row["follow_ups"] += group["n"]
        row["with_next_step"] += group["with_next"]
    customers = (
        customer_queryset(user)
        .prefetch_related(None)
        .values("department_id")
        .annotate(n=Count("id"), completeness=Avg("completeness"))
        .order_by()
    )
    for group in customers:
        row = rows[group["department_id"] or NO_DEPARTMENT]
        row["customers"] += group["n"]
        row["completeness"] = group["completeness"]
    names = dict(Department.objects.filter(pk__in=list(rows)).values_list("pk", "name"))
    return {
        "departments": [
            {"department_id": dept, "department": names.get(dept, ""), **values}
            for dept, values in sorted(rows.items(), key=lambda kv: names.get(kv[0], "~"))
        ],
        "modules": sorted(
            (
                {"module": name, "actions": m["actions"], "users": len(m["users"])}
                for name, m in modules.items()
            ),
            key=lambda m: (-m["actions"], m["module"]),
        ),
    }
