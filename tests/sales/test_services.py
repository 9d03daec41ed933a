"""Contracts and orders: codes, scope, validation, state changes, audit and the detail card."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DomainError, NotFound, PermissionDenied
from guanxi.sales import services
from guanxi.sales.models import Contract, Order
from tests.sales.support import completed_order, days_ago

pytestmark = pytest.mark.django_db


def test_contract_belongs_to_the_customer_owner_and_is_audited(org, make_customer):
    customer = make_customer(org["rep_a"])
    contract = services.contract_create(
        actor=org["manager"],
        customer=customer,
        title="  软件许可合同 ",
        amount="12,000.5".replace(",", ""),
        signed_on=days_ago(10),
        ends_on=days_ago(-355),
    )
    assert re.fullmatch(r"HT\d{12}", contract.code)
    assert contract.title == "软件许可合同"
    assert contract.amount == Decimal("12000.50")
    assert contract.starts_on == days_ago(10)
    assert (contract.owner_id, contract.department_id) == (org["rep_a"].pk, org["team_a"].pk)
    assert contract.status == "active" and contract.created_by == org["manager"]
    entry = AuditEntry.objects.get(action="contract.create", object_id=str(contract.pk))
    assert entry.actor == org["manager"] and entry.params["customer"] == customer.code
    second = services.contract_create(
        actor=org["rep_a"], customer=customer, title="续签", amount=1, signed_on=days_ago(1)
    )
    assert second.code != contract.code


def test_a_rep_cannot_sell_to_another_reps_customer(org, make_customer):
    theirs = make_customer(org["rep_b"])
    with pytest.raises(NotFound):
        services.order_create(
            actor=org["rep_a"], customer=theirs, title="x", amount=10, ordered_on=days_ago(0)
        )
    assert not Order.objects.exists()
    refused = AuditEntry.objects.get(action="order.create")
    assert refused.result != "success"


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e20", ""])
def test_amounts_must_be_positive_money(org, make_customer, amount):
    customer = make_customer(org["rep_a"])
    with pytest.raises(ValidationError) as caught:
        services.contract_create(
            actor=org["rep_a"],
            customer=customer,
            title="合同",
            amount=amount,
            signed_on=days_ago(0),
        )
    assert "amount" in caught.value.message_dict
    assert not Contract.objects.exists()


def test_contract_end_before_start_and_blank_title_are_refused(org, make_customer):
    customer = make_customer(org["rep_a"])
    with pytest.raises(ValidationError) as caught:
        services.contract_create(
            actor=org["rep_a"],
            customer=customer,
            title="合同",
            amount=100,
            signed_on=days_ago(5),
            ends_on=days_ago(6),
        )
    assert "ends_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.order_create(
            actor=org["rep_a"], customer=customer, title="  ", amount=1, ordered_on=days_ago(0)
        )
    assert "title" in caught.value.message_dict


def test_ending_a_contract_early_terminates_it(org, make_customer):
    customer = make_customer(org["rep_a"])
    contract = services.contract_create(
        actor=org["rep_a"],
        customer=customer,
        title="合同",
        amount=100,
        signed_on=days_ago(100),
        ends_on=days_ago(-100),
    )
    ended = services.contract_end(actor=org["rep_a"], contract=contract, ended_on=days_ago(1))
    assert (ended.status, ended.ends_on, ended.version) == ("terminated", days_ago(1), 2)
    with pytest.raises(DomainError) as caught:
        services.contract_end(actor=org["rep_a"], contract=contract, ended_on=days_ago(0))
    assert caught.value.code == "ERR-026" and caught.value.status == 409


def test_payments_never_exceed_the_order_and_state_changes_are_one_way(org, make_customer):
    customer = make_customer(org["rep_a"])
    order = services.order_create(
        actor=org["rep_a"], customer=customer, title="设备", amount="1000", ordered_on=days_ago(3)
    )
    assert re.fullmatch(r"DD\d{12}", order.code) and order.unpaid_amount == Decimal("1000")
    # Finance records payments but does not create orders.
    services.order_record_payment(actor=org["finance"], order=order, amount="400")
    with pytest.raises(ValidationError):
        services.order_record_payment(actor=org["finance"], order=order, amount="600.01")
    with pytest.raises(PermissionDenied):
        services.order_create(
            actor=org["finance"], customer=customer, title="x", amount=1, ordered_on=days_ago(0)
        )
    order.refresh_from_db()
    assert order.paid_amount == Decimal("400") and order.unpaid_amount == Decimal("600")
    done = services.order_complete(actor=org["rep_a"], order=order, completed_on=days_ago(0))
    assert (done.status, done.completed_on) == ("completed", days_ago(0))
    with pytest.raises(DomainError):
        services.order_cancel(actor=org["rep_a"], order=order)
    assert AuditEntry.objects.filter(action="order.payment", result="success").count() == 1


def test_customer_page_card_lists_business_in_scope(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    order = completed_order(org["rep_a"], customer, completed_days_ago=2)
    open_order = services.order_create(
        actor=org["rep_a"], customer=customer, title="耗材", amount="2500", ordered_on=days_ago(1)
    )
    services.order_record_payment(actor=org["rep_a"], order=open_order, amount="500")
    contract = services.contract_create(
        actor=org["rep_a"], customer=customer, title="维保合同", amount=800, signed_on=days_ago(0)
    )
    url = f"/sales/customers/{customer.pk}/business/"
    page = client_for(org["rep_a"]).get(url)
    html = page.content.decode()
    assert page.status_code == 200
    for code in (order.code, open_order.code, contract.code):
        assert code in html
    assert "订单合计 ¥7,500.00，未回款 ¥2,000.00" in html
    assert client_for(org["rep_b"]).get(url).status_code == 404
    detail = client_for(org["rep_a"]).get(f"/customers/{customer.pk}/").content.decode()
    assert url in detail and 'data-testid="business-slot"' in detail


def test_default_roles_hold_the_sales_rights(org):
    assert org["rep_a"].has_perm("sales.add_order")
    assert org["manager"].has_perm("sales.change_contract")
    assert org["finance"].has_perm("sales.change_order")
    assert not org["finance"].has_perm("sales.add_order")
    assert org["admin"].has_perm("sales.delete_contract")
    assert not org["marketing"].has_perm("sales.view_order")


def test_dates_are_kept_as_given(org, make_customer):
    customer = make_customer(org["rep_a"])
    order = services.order_create(
        actor=org["rep_a"],
        customer=customer,
        title="x",
        amount=1,
        ordered_on=dt.date(2024, 2, 29),
    )
    order.refresh_from_db()
    assert order.ordered_on == dt.date(2024, 2, 29)
