"""Customer services: validation, versioning, audit, duplicates, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import (
    DeleteRefused,
    DuplicateRecord,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from guanxi.customers import services
from guanxi.customers.codes import next_customer_code
from guanxi.customers.models import Customer, StatusChange
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db


def test_create_normalises_encrypts_and_audits(org):
    customer = services.customer_create(
        actor=org["admin"],
        data=customer_data(
            mobile="＋８６ １３９ １２３４ ５６７８",
            email=" Zhang@Example.COM ",
            province="广东",
            city="深圳",
            district="南山区",
        ),
    )
    customer.refresh_from_db()
    assert customer.mobile == "13912345678"
    assert customer.email == "zhang@example.com"
    assert (customer.province, customer.city, customer.district) == ("广东省", "深圳市", "南山区")
    with connection.cursor() as cur:
        cur.execute("SELECT mobile, email FROM customers_customer WHERE id = %s", [customer.pk])
        raw_mobile, raw_email = cur.fetchone()
    assert "13912345678" not in raw_mobile and raw_mobile.startswith("k1$")
    assert "zhang" not in raw_email
    entry = AuditEntry.objects.get(action="customer.create", object_id=str(customer.pk))
    assert entry.changes["mobile"] == [None, "139****5678"]
    assert entry.actor == org["admin"]
    assert StatusChange.objects.filter(customer=customer, to_status="potential").count() == 1


def test_code_format_and_sequence(org):
    a = services.customer_create(actor=org["admin"], data=customer_data())
    b = services.customer_create(actor=org["admin"], data=customer_data())
    assert a.code[:4] == "CUST" and a.code[4:12].isdigit()
    assert int(b.code[-4:]) == int(a.code[-4:]) + 1


def test_update_bumps_version_and_records_diff(org, make_customer):
    customer = make_customer(org["admin"])
    updated = services.customer_update(
        actor=org["admin"],
        customer=customer,
        data={"contact_name": "李四", "notes": "重要"},
        version=1,
    )
    assert updated.version == 2
    entry = AuditEntry.objects.filter(action="customer.update").latest("id")
    assert entry.changes == {"contact_name": ["张三", "李四"], "notes": ["", "重要"]}


def test_update_without_changes_keeps_version(org, make_customer):
    customer = make_customer(org["admin"])
    same = services.customer_update(
        actor=org["admin"], customer=customer, data={"contact_name": "张三"}, version=1
    )
    assert same.version == 1


def test_stale_version_refused_and_nothing_changes(org, make_customer):
    customer = make_customer(org["admin"])
    services.customer_update(
        actor=org["admin"], customer=customer, data={"contact_name": "李四"}, version=1
    )
    with pytest.raises(StaleVersion) as info:
        services.customer_update(
            actor=org["admin"], customer=customer, data={"contact_name": "王五"}, version=1
        )
    assert info.value.extra["current"].contact_name == "李四"
    customer.refresh_from_db()
    assert (customer.contact_name, customer.version) == ("李四", 2)
    assert AuditEntry.objects.filter(
        action="customer.update", result="denied", error_code="ERR-007"
    ).exists()


def test_validation_error_names_fields(org):
    with pytest.raises(ValidationError) as info:
        services.customer_create(
            actor=org["admin"],
            data=customer_data(
                name=" ", contact_name="", mobile="1234", province="广东省", city="杭州市"
            ),
        )
    assert {"name", "contact_name", "mobile", "city"} <= set(info.value.message_dict)
    assert Customer.objects.count() == 0
    assert AuditEntry.objects.filter(action="customer.create", result="failed").exists()


def test_individual_with_id_number(org):
    customer = services.customer_create(
        actor=org["admin"],
        data=customer_data(
            customer_type="individual", name="王小明", id_number="11010519491231002x"
        ),
    )
    customer.refresh_from_db()
    assert customer.id_number == "11010519491231002X"


def test_bad_id_number_refused(org):
    with pytest.raises(ValidationError) as info:
        services.customer_create(
            actor=org["admin"],
            data=customer_data(
                customer_type="individual", name="王小明", id_number="110105194912310021"
            ),
        )
    assert "id_number" in info.value.message_dict


def test_unknown_dictionary_value_refused_label_accepted(org):
    with pytest.raises(ValidationError) as info:
        services.customer_create(actor=org["admin"], data=customer_data(industry="宇宙业"))
    assert "industry" in info.value.message_dict
    ok = services.customer_create(actor=org["admin"], data=customer_data(industry="制造业"))
    assert ok.industry == "C"


def test_permission_and_scope(org, make_customer):
    theirs = make_customer(org["rep_b"])
    with pytest.raises(NotFound):
        services.customer_update(
            actor=org["rep_a"], customer=theirs, data={"notes": "x"}, version=1
        )
    with pytest.raises(PermissionDenied):
        services.customer_create(actor=org["service_rep"], data=customer_data())
    theirs.refresh_from_db()
    assert theirs.notes == ""


def test_manager_edits_team_customers(org, make_customer):
    rep_customer = make_customer(org["rep_a"])
    updated = services.customer_update(
        actor=org["manager"], customer=rep_customer, data={"notes": "经理备注"}, version=1
    )
    assert updated.notes == "经理备注"


def test_rep_cannot_assign_owner_outside_scope(org):
    with pytest.raises(ValidationError) as info:
        services.customer_create(actor=org["rep_a"], data=customer_data(owner_id=org["rep_b"].pk))
    assert "owner_id" in info.value.message_dict


def test_manager_assigns_owner_and_department_follows(org):
    customer = services.customer_create(
        actor=org["manager"], data=customer_data(owner_id=org["rep_b"].pk)
    )
    assert customer.owner == org["rep_b"]
    assert customer.department == org["team_b"]


def test_duplicates_exact_on_blind_index(org, make_customer):
    existing = make_customer(org["admin"], email="a@b.cn", uscc="")
    with pytest.raises(DuplicateRecord) as info:
        services.customer_create(actor=org["admin"], data=customer_data(email="A@B.CN"))
    assert info.value.extra["duplicates"][0]["id"] == existing.pk
    assert info.value.extra["duplicates"][0]["matched_on"] == ["email"]


def test_deleted_customer_frees_name(org, make_customer):
    customer = make_customer(org["admin"], name="可复用名称公司", status="not_cooperating")
    services.customer_delete(actor=org["admin"], customer=customer)
    again = services.customer_create(actor=org["admin"], data=customer_data(name="可复用名称公司"))
    assert again.pk != customer.pk


def test_delete_refused_for_cooperating(org, make_customer):
    customer = make_customer(org["admin"], status="cooperating")
    with pytest.raises(DeleteRefused):
        services.customer_delete(actor=org["admin"], customer=customer)
    customer.refresh_from_db()
    assert customer.deleted_at is None


def test_change_status_records_event(org, make_customer):
    customer = make_customer(org["admin"])
    services.customer_change_status(
        actor=org["admin"], customer=customer, status="cooperating", reason="签约"
    )
    event = StatusChange.objects.filter(customer=customer).first()
    assert (event.from_status, event.to_status, event.reason) == (
        "potential",
        "cooperating",
        "签约",
    )
    assert event.changed_by == org["admin"]


def _in_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_codes_unique_under_concurrency(org):
    results = _in_threads(8, lambda i: [next_customer_code() for _ in range(10)])
    codes = [c for batch in results for c in batch]
    assert len(codes) == 80
    assert len(set(codes)) == 80


@pytest.mark.django_db(transaction=True)
def test_duplicate_name_under_concurrency_exactly_one_wins(org):
    actor = org["admin"]

    def create(i: int) -> Any:
        return services.customer_create(
            actor=actor, data=customer_data(name="并发测试有限公司", mobile=f"1390000{i:04d}")
        )

    results = _in_threads(4, create)
    winners = [r for r in results if isinstance(r, Customer)]
    losers = [r for r in results if isinstance(r, DuplicateRecord)]
    assert len(winners) == 1, results
    assert len(losers) == 3, results
    assert Customer.objects.filter(name="并发测试有限公司").count() == 1
