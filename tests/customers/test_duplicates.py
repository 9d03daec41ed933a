"""Duplicate detection: name cores, similar names, rules per setting, API warnings, forms."""

from __future__ import annotations

import pytest

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DuplicateRecord
from guanxi.customers import duplicates, services
from guanxi.customers.duplicates import UnconfirmedDuplicates
from guanxi.customers.models import Customer
from guanxi.customers.name_match import name_core, similarity
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("深圳市华为技术有限公司", "华为技术"),
        ("华为技术（深圳）有限公司", "华为技术"),
        ("广东省深圳市华为技术股份有限公司", "华为技术"),
        ("华为技术有限责任公司", "华为技术"),
        ("  华为 技术·有限公司 ", "华为技术"),
        ("ＨＵＡＷＥＩ Co., Ltd.", "huawei"),
        ("北京公司", "北京"),  # never shrinks below two characters
        ("内蒙古伊利实业集团股份有限公司", "伊利实业"),
    ],
)
def test_name_core_drops_region_brackets_legal_form_and_width(name, core):
    assert name_core(name) == core


def test_similarity():
    assert similarity("华为技术", "华为技术") == 1.0
    assert similarity("华为技术", "华伟技术") == 0.75  # one character of four
    assert similarity("华为", "华为技术") == 0.9  # the shorter opens the longer
    assert similarity("华为技术", "中兴通讯") == 0.0
    assert similarity("仓储3店", "仓储4店") == 0.0  # different numbers, different companies


def test_similar_name_warns_and_saves_through_service(org, make_customer):
    first = make_customer(org["admin"], name="深圳市华为技术有限公司")
    saved = services.customer_create(
        actor=org["admin"], data=customer_data(name="华为技术（深圳）股份有限公司")
    )
    assert saved.pk
    [warning] = saved.duplicate_warnings
    assert warning.rule == "similar_name"
    assert [d["id"] for d in warning.duplicates] == [first.pk]
    assert warning.duplicates[0]["score"] == 1.0
    entry = AuditEntry.objects.get(action="customer.create", object_id=str(saved.pk))
    assert entry.params["duplicate_warnings"] == {"similar_name": [first.pk]}


def test_typo_in_trade_name_is_similar_from_either_half(org, make_customer):
    base = make_customer(org["admin"], name="杭州星辰数码科技有限公司")
    for typo in ("杭州星晨数码科技有限公司", "杭州星辰数码料技有限公司"):
        found = duplicates.similar_names(typo)
        assert [r["id"] for r in found] == [base.pk], typo


def test_unrelated_names_do_not_warn(org, make_customer):
    make_customer(org["admin"], name="深圳市华为技术有限公司")
    saved = services.customer_create(
        actor=org["admin"], data=customer_data(name="北京字节跳动科技有限公司")
    )
    assert saved.duplicate_warnings == []


def test_unconfirmed_similar_name_stops_the_save(org, make_customer):
    make_customer(org["admin"], name="深圳市华为技术有限公司")
    before = Customer.objects.count()
    with pytest.raises(UnconfirmedDuplicates) as info:
        services.customer_create(
            actor=org["admin"],
            data=customer_data(name="华为技术有限公司"),
            confirm_duplicates=False,
        )
    assert info.value.warnings[0].rule == "similar_name"
    assert Customer.objects.count() == before


def test_exact_mobile_blocks_by_default_and_warns_when_configured(org, make_customer, settings):
    first = make_customer(org["admin"], mobile="13900001111")
    with pytest.raises(DuplicateRecord) as info:
        services.customer_create(actor=org["admin"], data=customer_data(mobile="13900001111"))
    assert info.value.extra["duplicates"][0]["id"] == first.pk
    assert info.value.extra["matched_on"] == ["mobile"]

    settings.GUANXI_DUPLICATE_RULES = {**settings.GUANXI_DUPLICATE_RULES, "mobile": "warn"}
    saved = services.customer_create(actor=org["admin"], data=customer_data(mobile="13900001111"))
    assert [(w.rule, [d["id"] for d in w.duplicates]) for w in saved.duplicate_warnings] == [
        ("mobile", [first.pk])
    ]

    settings.GUANXI_DUPLICATE_RULES = {**settings.GUANXI_DUPLICATE_RULES, "mobile": "off"}
    saved = services.customer_create(actor=org["admin"], data=customer_data(mobile="13900001111"))
    assert saved.duplicate_warnings == []


def test_similar_names_can_be_made_blocking(org, make_customer, settings):
    make_customer(org["admin"], name="深圳市华为技术有限公司")
    settings.GUANXI_DUPLICATE_RULES = {**settings.GUANXI_DUPLICATE_RULES, "similar_name": "block"}
    with pytest.raises(DuplicateRecord):
        services.customer_create(actor=org["admin"], data=customer_data(name="华为技术有限公司"))


def test_out_of_scope_similar_records_are_counted_not_named(org, make_customer):
    make_customer(org["rep_b"], name="深圳市华为技术有限公司")
    saved = services.customer_create(
        actor=org["rep_a"], data=customer_data(name="华为技术有限公司")
    )
    [warning] = saved.duplicate_warnings
    assert warning.duplicates == [] and warning.hidden_count == 1


def test_edit_checks_only_changed_values(org, make_customer):
    make_customer(org["admin"], name="深圳市华为技术有限公司")
    other = make_customer(org["admin"], name="华为技术有限公司")  # created despite the warning
    saved = services.customer_update(
        actor=org["admin"], customer=other, data={"notes": "备注"}, version=other.version
    )
    assert saved.duplicate_warnings == []


def test_merged_and_deleted_customers_are_not_candidates(org, make_customer):
    gone = make_customer(org["admin"], name="深圳市华为技术有限公司", status="not_cooperating")
    services.customer_delete(actor=org["admin"], customer=gone)
    assert duplicates.similar_names("华为技术有限公司") == []


# --- HTTP ----------------------------------------------------------------------------------


def test_api_create_answers_201_with_warnings(org, make_customer, client_for):
    first = make_customer(org["admin"], name="深圳市华为技术有限公司")
    client = client_for(org["admin"])
    response = client.post(
        "/api/v1/customers",
        customer_data(name="华为技术有限公司"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["warnings"][0]["rule"] == "similar_name"
    assert body["warnings"][0]["duplicates"][0]["id"] == first.pk
    assert Customer.objects.filter(pk=body["id"]).exists()


def test_api_check_endpoint(org, make_customer, client_for):
    first = make_customer(org["admin"], name="深圳市华为技术有限公司", mobile="13900002222")
    client = client_for(org["admin"])
    response = client.post(
        "/api/v1/customers/duplicate-check",
        {"name": "华为技术有限公司", "mobile": "139-0000-2222"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["blocked"] is True
    assert [(d["id"], d["matched_on"]) for d in body["duplicates"]] == [(first.pk, ["mobile"])]
    bad = client.post(
        "/api/v1/customers/duplicate-check", {"mobile": "12"}, content_type="application/json"
    )
    assert bad.status_code == 422


def test_form_shows_similar_customers_then_saves_when_confirmed(org, make_customer, client_for):
    first = make_customer(org["admin"], name="深圳市华为技术有限公司")
    client = client_for(org["admin"])
    data = customer_data(name="华为技术有限公司")
    response = client.post("/customers/new/", data)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="similar"' in html and first.code in html
    assert not Customer.objects.filter(name="华为技术有限公司").exists()
    response = client.post("/customers/new/", {**data, "confirm_duplicates": "on"})
    assert response.status_code == 302
    assert Customer.objects.filter(name="华为技术有限公司").exists()


def test_name_keys_follow_every_name_change(org, make_customer):
    from guanxi.customers.bulk import bulk_create_customers
    from guanxi.customers.models import CustomerNameKey
    from guanxi.customers.name_match import deletion_keys

    customer = make_customer(org["admin"], name="杭州星辰数码科技有限公司")
    keys = set(CustomerNameKey.objects.filter(customer=customer).values_list("key", flat=True))
    assert keys == set(deletion_keys("星辰数码科技"))
    services.customer_update(
        actor=org["admin"],
        customer=customer,
        data={"name": "杭州远航物流有限公司"},
        version=customer.version,
    )
    assert [r["id"] for r in duplicates.similar_names("杭州远行物流有限公司")] == [customer.pk]
    assert duplicates.similar_names("杭州星晨数码科技有限公司") == []

    result = bulk_create_customers(
        [{**customer_data(name="宁波海纳百川贸易有限公司"), "tags": []}],
        actor=org["admin"],
        owner=org["admin"],
    )
    assert [r["id"] for r in duplicates.similar_names("宁波海纳百穿贸易有限公司")] == (
        result.created_ids
    )
