"""Contracts and orders in the customer's life cycle: delete refusals that name them, merge
moving them with counts kept, purge refused while they exist."""

from __future__ import annotations

import pytest

from guanxi.core.errors import DeleteRefused, DomainError
from guanxi.customers import merge, recycle, services
from guanxi.customers.models import Customer
from guanxi.sales import services as sales
from guanxi.sales.models import Contract, Order
from tests.sales.support import completed_order, days_ago, ended_contract

pytestmark = pytest.mark.django_db


def test_delete_is_refused_while_business_is_open_and_names_it(org, make_customer):
    customer = make_customer(org["rep_a"], status="not_cooperating")
    order = sales.order_create(
        actor=org["rep_a"], customer=customer, title="设备", amount="1000", ordered_on=days_ago(5)
    )
    sales.contract_create(
        actor=org["rep_a"],
        customer=customer,
        title="服务",
        amount=10,
        signed_on=days_ago(5),
        ends_on=days_ago(-30),
    )
    with pytest.raises(DeleteRefused) as caught:
        services.customer_delete(actor=org["manager"], customer=customer)
    message = str(caught.value.message)
    assert "1 份执行中的合同" in message and "1 个进行中的订单" in message
    assert "未回款 1,000.00 元" in message
    assert caught.value.extra["reason"] == "open_business" and caught.value.code == "ERR-011"

    Contract.objects.update(status="terminated", ends_on=days_ago(1))
    sales.order_complete(actor=org["rep_a"], order=order, completed_on=days_ago(1))
    with pytest.raises(DeleteRefused) as caught:
        services.customer_delete(actor=org["manager"], customer=customer)
    assert str(caught.value.message).endswith("未回款 1,000.00 元")

    sales.order_record_payment(actor=org["finance"], order=order, amount="1000")
    services.customer_delete(actor=org["manager"], customer=customer)
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_a_cancelled_order_does_not_hold_a_customer(org, make_customer):
    customer = make_customer(org["rep_a"], status="not_cooperating")
    order = sales.order_create(
        actor=org["rep_a"], customer=customer, title="x", amount="80", ordered_on=days_ago(1)
    )
    sales.order_cancel(actor=org["rep_a"], order=order)
    services.customer_delete(actor=org["manager"], customer=customer)
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_merge_moves_contracts_and_orders_with_counts_kept(org, make_customer):
    survivor = make_customer(org["rep_a"])
    merged = make_customer(org["rep_a"])
    ended_contract(org["rep_a"], survivor, ended_days_ago=10)
    ended_contract(org["rep_a"], merged, ended_days_ago=20)
    completed_order(org["rep_a"], merged, completed_days_ago=3)
    completed_order(org["rep_a"], merged, completed_days_ago=4)
    before = (Contract.objects.count(), Order.objects.count())
    record = merge.customer_merge(actor=org["data_admin"], survivor=survivor, merged=merged)
    assert (Contract.objects.count(), Order.objects.count()) == before
    assert Contract.objects.filter(customer=survivor).count() == 2
    assert Order.objects.filter(customer=survivor).count() == 2
    assert not Order.objects.filter(customer=merged).exists()
    assert record.moved["sales.Order"] == 2 and record.moved["sales.Contract"] == 1


def test_purge_is_refused_while_sales_records_reference_the_customer(org, make_customer):
    customer = make_customer(org["admin"], status="not_cooperating")
    completed_order(org["admin"], customer, completed_days_ago=30)
    services.customer_delete(actor=org["admin"], customer=customer)
    with pytest.raises(DomainError) as caught:
        recycle.customer_purge(actor=org["admin"], customer=customer, reason="测试")
    assert caught.value.message == recycle.MSG_PURGE_LINKED
    assert Order.objects.filter(customer_id=customer.pk).exists()
