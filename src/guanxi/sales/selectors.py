"""Reads of contracts and orders, always through the reader's data scope."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from guanxi.customers.models import Customer
from guanxi.sales.choices import OrderStatus
from guanxi.sales.models import Contract, Order


def contracts_of(*, user: Any, customer: Customer) -> QuerySet:
    if not user.has_perm("sales.view_contract"):
        return Contract.objects.none()
    return Contract.objects.alive().restrict(user, "view").filter(customer=customer)


def orders_of(*, user: Any, customer: Customer) -> QuerySet:
    if not user.has_perm("sales.view_order"):
        return Order.objects.none()
    return Order.objects.alive().restrict(user, "view").filter(customer=customer)


@dataclass(frozen=True)
class CustomerBusiness:
    """What the customer detail page shows under 合同与订单."""

    contracts: list[Contract]
    orders: list[Order]
    order_total: Decimal
    unpaid_total: Decimal

    @property
    def visible(self) -> bool:
        return bool(self.contracts or self.orders)


def customer_business(*, user: Any, customer: Customer, limit: int = 10) -> CustomerBusiness:
    orders = orders_of(user=user, customer=customer)
    totals = orders.exclude(status=OrderStatus.CANCELLED).aggregate(
        amount=Sum("amount"), paid=Sum("paid_amount")
    )
    amount, paid = totals["amount"] or Decimal("0"), totals["paid"] or Decimal("0")
    return CustomerBusiness(
        contracts=list(contracts_of(user=user, customer=customer)[:limit]),
        orders=list(orders[:limit]),
        order_total=amount,
        unpaid_total=max(amount - paid, Decimal("0")),
    )
