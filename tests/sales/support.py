"""What the sales and 流失预警 tests share: customers with contracts and orders in the past."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.sales import services

TODAY = timezone.localdate


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def cooperating(make_customer: Any, actor: Any, **overrides: Any) -> Customer:
    """An approved 合作客户 created by ``actor`` (its owner)."""
    customer = make_customer(actor, **overrides)
    Customer.objects.filter(pk=customer.pk).update(status="cooperating")
    customer.refresh_from_db()
    return customer


def ended_contract(actor: Any, customer: Customer, *, ended_days_ago: int) -> Any:
    """A one-year contract that ended ``ended_days_ago`` days ago."""
    ends = days_ago(ended_days_ago)
    contract = services.contract_create(
        actor=actor,
        customer=customer,
        title="年度服务合同",
        amount="12000",
        signed_on=ends - dt.timedelta(days=370),
        starts_on=ends - dt.timedelta(days=365),
        ends_on=ends,
    )
    return services.contract_end(actor=actor, contract=contract, ended_on=ends)


def completed_order(actor: Any, customer: Customer, *, completed_days_ago: int) -> Any:
    """A fully paid order completed ``completed_days_ago`` days ago."""
    done = days_ago(completed_days_ago)
    order = services.order_create(
        actor=actor,
        customer=customer,
        title="设备采购",
        amount="5000",
        ordered_on=done - dt.timedelta(days=10),
    )
    services.order_record_payment(actor=actor, order=order, amount="5000")
    return services.order_complete(actor=actor, order=order, completed_on=done)
