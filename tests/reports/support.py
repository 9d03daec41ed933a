"""Report test data and the hand-made counts reports are compared with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from guanxi.customers import follow_ups
from guanxi.customers.models import Customer, FollowUp, StatusChange
from guanxi.customers.services import customer_change_status
from guanxi.reports import tally_admin


def seed(org: dict[str, Any], make_customer: Any) -> list[Customer]:
    """Customers of several owners, departments, categories and regions, some blank;
    follow-ups by their owners; a few status changes (one to 流失)."""
    plan = [
        ("rep_a", {"category": "normal"}),
        ("rep_a", {"category": ""}),
        ("rep_a", {"province": "", "city": "", "district": ""}),
        ("rep_b", {"category": "normal", "source": ""}),
        ("rep_b", {"province": "浙江省", "city": "杭州市", "district": "西湖区"}),
        ("manager", {"industry": ""}),
        ("admin", {"customer_type": "individual"}),
        ("admin", {}),
    ]
    made = [make_customer(org[who], **fields) for who, fields in plan]
    now = timezone.now()
    for n, customer in enumerate(made):
        owner = org[plan[n][0]]
        for days in range(n % 3 + 1):
            follow_ups.follow_up_create(
                actor=owner,
                customer_id=customer.pk,
                data={
                    "method": "电话" if days % 2 else "拜访",
                    "content": "沟通",
                    "followed_at": now - dt.timedelta(days=days * 2),
                },
            )
    for customer, status in ((made[0], "cooperating"), (made[3], "lost"), (made[5], "lost")):
        fresh = Customer.objects.get(pk=customer.pk)
        customer_change_status(actor=org["admin"], customer=fresh, status=status)
    return made


def scope_of(org: dict[str, Any], who: str) -> Q | None:
    """The customer scope of each test user, written out by hand (None: everything)."""
    if who in ("admin", "data_admin", "service_rep", "marketing", "finance", "analyst"):
        return None
    if who == "manager":
        depts = [org["sales"].pk, org["team_a"].pk, org["team_b"].pk]
        return Q(department_id__in=depts) | Q(owner_id=org["manager"].pk)
    return Q(owner_id=org[who].pk)


def customers_in(org: dict[str, Any], who: str) -> QuerySet:
    qs = Customer.objects.filter(deleted_at__isnull=True)
    q = scope_of(org, who)
    return qs if q is None else qs.filter(q)


def follow_ups_in(org: dict[str, Any], who: str) -> QuerySet:
    customers = customers_in(org, who)
    return FollowUp.objects.filter(deleted_at__isnull=True, customer__in=customers)


def changes_in(org: dict[str, Any], who: str) -> QuerySet:
    return StatusChange.objects.filter(customer__in=customers_in(org, who))


def assert_tallies_fresh() -> None:
    result = tally_admin.verify()
    assert result.ok, result.differences[:10]
    assert result.checked > 0


def today() -> dt.date:
    return timezone.localdate()
