"""Contracts and orders in the customer's life cycle (registered from ``SalesConfig.ready``):

- merge: they move to the surviving customer (``customers.merge`` re-points every
  reference to the merged record; nothing to register);
- delete: an active contract, an open order or an unpaid amount refuses it, by name;
- 流失预警: the last contract end or order completion, and whether any still runs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from guanxi.core.money import money_text
from guanxi.customers.business_hooks import (
    BusinessDates,
    latest_date,
    register_business_source,
    register_delete_check,
)
from guanxi.sales.choices import ContractStatus, OrderStatus
from guanxi.sales.models import Contract, Order


def _running_contracts(today: dt.date) -> Q:
    return Q(status=ContractStatus.ACTIVE) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))


def delete_check(customer: Any) -> str | None:
    """Why the customer's sales records keep it out of the recycle bin, or None."""
    today = timezone.localdate()
    reasons = []
    contracts = Contract.objects.alive().filter(customer=customer)
    active = contracts.filter(_running_contracts(today)).count()
    if active:
        reasons.append(f"{active} 份执行中的合同")
    orders = Order.objects.alive().filter(customer=customer)
    open_orders = orders.filter(status=OrderStatus.OPEN).count()
    if open_orders:
        reasons.append(f"{open_orders} 个进行中的订单")
    unpaid = orders.exclude(status=OrderStatus.CANCELLED).aggregate(
        due=Sum(F("amount") - F("paid_amount"))
    )["due"] or Decimal("0")
    if unpaid > 0:
        reasons.append(f"未回款 {money_text(unpaid)} 元")
    return "、".join(reasons) or None


def business_dates(today: dt.date) -> BusinessDates:
    contracts = Contract.objects.filter(customer=OuterRef("pk"), deleted_at__isnull=True)
    orders = Order.objects.filter(customer=OuterRef("pk"), deleted_at__isnull=True)
    contract_end = Subquery(
        contracts.exclude(status=ContractStatus.DRAFT)
        .filter(ends_on__isnull=False)
        .order_by("-ends_on")
        .values("ends_on")[:1]
    )
    order_end = Subquery(
        orders.filter(status=OrderStatus.COMPLETED, completed_on__isnull=False)
        .order_by("-completed_on")
        .values("completed_on")[:1]
    )
    last_end = latest_date(contract_end, order_end)
    running = Q(Exists(contracts.filter(_running_contracts(today)))) | Q(
        Exists(orders.filter(status=OrderStatus.OPEN))
    )
    return BusinessDates(last_end=last_end, running=running)


register_delete_check(delete_check)
register_business_source(business_dates)
