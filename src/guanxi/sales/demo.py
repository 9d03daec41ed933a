"""Demo contracts and orders for the cooperating demo customers, spread over the past two
years: most still run or ended lately; about one customer in six has had nothing since
more than three months, so the 流失预警 job has something to propose."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.customers.choices import CustomerStatus
from guanxi.customers.models import Customer
from guanxi.sales.choices import ContractStatus, OrderStatus
from guanxi.sales.codes import reserve_codes
from guanxi.sales.models import Contract, Order

PRODUCTS = ("年度服务", "软件许可", "设备采购", "技术支持", "实施服务", "耗材供应", "培训服务")


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low, high) * 100)


def seed_demo_sales(*, actor: Any, seed: int = 13) -> tuple[int, int]:
    """(contracts, orders) created for the live cooperating customers."""
    rng = random.Random(seed)
    today = timezone.localdate()
    customers = Customer.objects.alive().filter(status=CustomerStatus.COOPERATING)
    contracts: list[Contract] = []
    orders: list[Order] = []
    for pk, owner_id, dept_id in customers.values_list("pk", "owner_id", "department_id"):
        lapsed = rng.random() < 1 / 6
        # A lapsed customer's last business ended 4 to 12 months ago; the others' runs on.
        last_end = today - dt.timedelta(
            days=rng.randint(120, 365) if lapsed else -rng.randint(30, 300)
        )
        start = last_end - dt.timedelta(days=365)
        status = ContractStatus.ENDED if last_end < today else ContractStatus.ACTIVE
        contracts.append(
            Contract(
                customer_id=pk,
                title=f"{rng.choice(PRODUCTS)}合同",
                amount=_money(rng, 500, 20000),
                signed_on=start - dt.timedelta(days=rng.randint(3, 20)),
                starts_on=start,
                ends_on=last_end,
                status=status,
                owner_id=owner_id,
                department_id=dept_id,
                created_by=actor,
                updated_by=actor,
            )
        )
        for _ in range(rng.randint(1, 3)):
            ordered = start + dt.timedelta(days=rng.randint(0, 300))
            done = ordered + dt.timedelta(days=rng.randint(5, 40))
            completed = lapsed or done < today - dt.timedelta(days=7) or rng.random() < 0.5
            done = min(done, last_end) if lapsed else min(done, today)
            amount = _money(rng, 50, 5000)
            unpaid = not lapsed and rng.random() < 0.2
            orders.append(
                Order(
                    customer_id=pk,
                    title=rng.choice(PRODUCTS),
                    amount=amount,
                    paid_amount=amount / 2 if unpaid else amount,
                    ordered_on=min(ordered, done),
                    completed_on=done if completed else None,
                    status=OrderStatus.COMPLETED if completed else OrderStatus.OPEN,
                    owner_id=owner_id,
                    department_id=dept_id,
                    created_by=actor,
                    updated_by=actor,
                )
            )
    with transaction.atomic():
        for obj, code in zip(contracts, reserve_codes("contract", len(contracts)), strict=True):
            obj.code = code
        for obj, code in zip(orders, reserve_codes("order", len(orders)), strict=True):
            obj.code = code
        Contract.objects.bulk_create(contracts, batch_size=1000)
        Order.objects.bulk_create(orders, batch_size=1000)
    return len(contracts), len(orders)
