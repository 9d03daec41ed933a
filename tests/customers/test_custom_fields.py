"""Custom fields on customers: form, detail, list columns, filters, search, API, history,
merge and edit conflicts — one round trip per door, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.custom_field_services import custom_field_create, custom_field_update
from guanxi.core.models import DictionaryType
from guanxi.customers import merge, services
from guanxi.customers.models import Customer
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")
API = "/api/v1/customers"


def define(admin, key: str, field_type: str, **extra: Any):
    data = {"object_type": "customer", "label": extra.pop("label", key), "key": key}
    data.update(field_type=field_type, **extra)
    return custom_field_create(actor=admin, data=data)


@pytest.fixture
def fields(org):
    """One field of every type, all shown in the list and filterable."""
    category = DictionaryType.objects.get(code="customer_category")
    source = DictionaryType.objects.get(code="customer_source")
    common = {"show_in_list": True, "filterable": True}
    return {
        "region_code": define(
            org["admin"], "region_code", "text", label="大区编码", searchable=True, **common
        ),
        "profile": define(org["admin"], "profile", "long_text", label="企业简介"),
        "staff": define(org["admin"], "staff", "number", label="员工人数", **common),
        "credit": define(org["admin"], "credit", "money", label="授信额度", **common),
        "signed_on": define(org["admin"], "signed_on", "date", label="签约日期", **common),
        "listed": define(org["admin"], "listed", "boolean", label="上市公司", **common),
        "level": define(
            org["admin"], "level", "choice", label="合作等级", dictionary_id=category.pk, **common
        ),
        "channels": define(
            org["admin"],
            "channels",
            "multi_choice",
            label="获客渠道",
            dictionary_id=source.pk,
            **common,
        ),
    }


FULL = {
    "region_code": "华南大区A",
    "profile": "专注智能制造\n第二行",
    "staff": "1200",
    "credit": "500000",
    "signed_on": "2026-03-15",
    "listed": "是",
    "level": "VIP客户",
    "channels": ["web", "展会"],
}
STORED = {
    "region_code": "华南大区A",
    "profile": "专注智能制造\n第二行",
    "staff": 1200,
    "credit": "500000.00",
    "signed_on": "2026-03-15",
    "listed": True,
    "level": "vip",
    "channels": ["web", "exhibition"],
}


def _html(response) -> str:
    return response.content.decode()


def _form(**custom: Any) -> dict[str, Any]:
    data = customer_data()
    data["tags"] = ""
    for key, value in custom.items():
        data[f"cf_{key}"] = value
    return data


def test_form_round_trip_create_detail_edit(org, fields, client_for):
    client = client_for(org["admin"])
    page = _html(client.get(reverse("customers:create")))
    assert 'data-testid="custom-fields"' in page and "合作等级" in page and "获客渠道" in page
    post = _form(**{**FULL, "listed": "true", "level": "vip", "channels": ["web", "exhibition"]})
    response = client.post(reverse("customers:create"), post)
    assert response.status_code == 302, _html(response)
    customer = Customer.objects.get(name=post["name"])
    assert customer.custom_fields == STORED

    detail = _html(client.get(reverse("customers:detail", args=[customer.pk])))
    shown = dict(re.findall(r'data-custom-value="(\w+)"[^>]*>([^<]*)<', detail))
    assert shown["credit"] == "500,000.00"
    assert shown["level"] == "VIP客户"
    assert shown["channels"] == "网络推广、展会"
    assert shown["listed"] == "是"
    assert shown["signed_on"] == "2026-03-15"

    edit = _html(client.get(reverse("customers:edit", args=[customer.pk])))
    assert 'name="cf_credit" value="500000.00"' in edit
    assert re.search(r'<option value="true" selected>是</option>', edit)
    assert re.search(r'value="exhibition"[^>]*checked', edit)


def test_form_shows_custom_errors_next_to_the_field(org, fields, client_for):
    custom_field_update(actor=org["admin"], field=fields["level"], data={"required": True})
    client = client_for(org["admin"])
    response = client.post(reverse("customers:create"), _form(staff="很多", credit="1.234"))
    assert response.status_code == 422
    html = _html(response)
    errors = dict(re.findall(r'data-field-error="(cf_\w+)">\s*<div>([^<]+)<', html))
    assert errors == {
        "cf_staff": "请输入数字",
        "cf_credit": "请输入金额，最多两位小数",
        "cf_level": "此项为必填项",
    }
    assert not Customer.objects.exists()


def test_api_round_trip_and_partial_edit(org, fields, client_for):
    client = client_for(org["admin"])
    body = {**customer_data(), "custom_fields": FULL}
    created = client.post(API, body, content_type="application/json")
    assert created.status_code == 201, created.json()
    record = created.json()
    assert record["custom_fields"] == STORED
    got = client.get(f"{API}/{record['id']}").json()
    assert got["custom_fields"] == STORED

    patched = client.patch(
        f"{API}/{record['id']}",
        {"version": got["version"], "custom_fields": {"credit": "750000.5", "profile": None}},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.json()
    values = patched.json()["custom_fields"]
    assert values["credit"] == "750000.50" and values["profile"] is None
    assert values["level"] == "vip"  # keys not sent are kept
    listed = client.get(API, {"cf_level": "vip"}).json()["items"]
    assert [c["id"] for c in listed] == [record["id"]]


def test_api_refuses_bad_values_and_unknown_keys_with_field_errors(org, fields, client_for):
    client = client_for(org["admin"])
    body = {
        **customer_data(),
        "custom_fields": {"staff": "x", "level": "金牌", "nope": 1, "signed_on": "2026-13-01"},
    }
    response = client.post(API, body, content_type="application/json")
    assert response.status_code == 422
    fields_with_errors = set(response.json()["errors"])
    assert {
        "custom_fields",
        "custom_fields.staff",
        "custom_fields.level",
        "custom_fields.signed_on",
    } <= fields_with_errors
    not_a_mapping = client.post(
        API, {**customer_data(), "custom_fields": ["x"]}, content_type="application/json"
    )
    assert not_a_mapping.status_code == 422


def test_list_columns_and_every_filter_kind(org, fields, make_customer, client_for):
    admin = org["admin"]
    big = make_customer(admin, name="大客户有限公司", custom_fields=FULL)
    small = make_customer(
        admin,
        name="小客户有限公司",
        custom_fields={
            "region_code": "华北",
            "staff": 8,
            "credit": "1000",
            "signed_on": "2025-01-01",
            "listed": False,
            "level": "normal",
            "channels": ["referral"],
        },
    )
    bare = make_customer(admin, name="空白客户有限公司")
    client = client_for(admin)
    html = _html(client.get(LIST))
    assert 'data-custom-column="credit"' in html and "授信额度" in html
    assert "500,000.00" in html and "VIP客户" in html

    def names(**params) -> set[str]:
        items = client.get(API, params).json()["items"]
        return {c["name"] for c in items}

    assert names(cf_region_code="华南") == {big.name}
    assert names(cf_staff__from="10") == {big.name}
    assert names(cf_staff__to="10") == {small.name}
    assert names(cf_credit__from="999.99", cf_credit__to="1000") == {small.name}
    assert names(cf_signed_on__from="2026-01-01") == {big.name}
    assert names(cf_listed="true") == {big.name}
    assert names(cf_listed="false") == {small.name}
    assert names(cf_level="normal") == {small.name}
    assert names(cf_channels="exhibition") == {big.name}
    assert names(cf_channels="web") == {big.name}
    assert names(cf_channels="ad") == set()
    assert bare.name in names()
    bad = client.get(API, {"cf_staff__from": "many"})
    assert bad.status_code == 422
    page = _html(client.get(LIST, {"cf_level": "normal"}))
    assert "小客户有限公司" in page and "大客户有限公司" not in page
    assert 'name="cf_channels"' in page  # the filter is offered on the page


def test_searchable_text_is_found_by_the_search_box(org, fields, make_customer, client_for):
    found = make_customer(org["admin"], custom_fields={"region_code": "华南大区甲组"})
    make_customer(org["admin"], custom_fields={"profile": "华南大区甲组"})  # not searchable
    client = client_for(org["admin"])
    for query in ("华南大区甲组", "大区", "huanan"):
        items = client.get(API, {"q": query}).json()["items"]
        assert [c["id"] for c in items] == [found.pk], query
    # Turning search off drops the values from the index.
    custom_field_update(actor=org["admin"], field=fields["region_code"], data={"searchable": False})
    assert client.get(API, {"q": "华南大区甲组"}).json()["items"] == []
    custom_field_update(actor=org["admin"], field=fields["region_code"], data={"searchable": True})
    assert len(client.get(API, {"q": "华南大区甲组"}).json()["items"]) == 1


def test_history_names_each_changed_custom_field(org, fields, make_customer, client_for):
    customer = make_customer(org["admin"], custom_fields={"level": "normal", "credit": "10"})
    services.customer_update(
        actor=org["admin"],
        customer=customer,
        data={"custom_fields": {"level": "vip", "credit": None}},
        version=customer.version,
    )
    entry = AuditEntry.objects.filter(action="customer.update").latest("pk")
    assert entry.changes == {
        "custom_fields.level": ["normal", "vip"],
        "custom_fields.credit": ["10.00", None],
    }
    detail = _html(client_for(org["admin"]).get(reverse("customers:detail", args=[customer.pk])))
    history = detail[detail.index('id="change-history"') :]
    assert "合作等级" in history and "普通客户" in history and "VIP客户" in history
    assert "授信额度" in history and "10.00" in history


def test_inactive_field_keeps_its_value_and_leaves_forms_and_api(
    org, fields, make_customer, client_for
):
    customer = make_customer(org["admin"], custom_fields={"level": "vip", "staff": 3})
    custom_field_update(actor=org["admin"], field=fields["level"], data={"is_active": False})
    client = client_for(org["admin"])
    assert "level" not in client.get(f"{API}/{customer.pk}").json()["custom_fields"]
    assert 'name="cf_level"' not in _html(client.get(reverse("customers:edit", args=[customer.pk])))
    detail = _html(client.get(reverse("customers:detail", args=[customer.pk])))
    assert "已停用" in detail and "VIP客户" in detail
    saved = services.customer_update(
        actor=org["admin"],
        customer=customer,
        data={"custom_fields": {"staff": 4}},
        version=customer.version,
    )
    assert saved.custom_fields == {"level": "vip", "staff": 4}
    refused = client.patch(
        f"{API}/{customer.pk}",
        {"version": saved.version, "custom_fields": {"level": "normal"}},
        content_type="application/json",
    )
    assert refused.status_code == 422


def test_merge_keeps_survivor_values_and_fills_gaps(org, fields, make_customer):
    survivor = make_customer(org["admin"], custom_fields={"level": "vip"})
    merged = make_customer(org["admin"], custom_fields={"level": "normal", "staff": 50})
    merge.customer_merge(actor=org["data_admin"], survivor=survivor, merged=merged)
    survivor.refresh_from_db()
    assert survivor.custom_fields == {"level": "vip", "staff": 50}


def test_stale_save_shows_custom_field_conflicts(org, fields, make_customer, client_for):
    customer = make_customer(org["rep_a"], custom_fields={"credit": "100"})
    services.customer_update(
        actor=org["manager"],
        customer=customer,
        data={"custom_fields": {"credit": "200"}},
        version=1,
    )
    client = client_for(org["rep_a"])
    data = _form(credit="300")
    data.update(name=customer.name, mobile=customer.mobile, version=1)
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 409
    html = _html(response)
    conflict = html[html.index('data-testid="conflict"') : html.index("</table>")]
    assert "授信额度" in conflict and "200.00" in conflict and "300.00" in conflict
    assert 'value="custom_fields.credit"' in conflict
    # Keeping the current value for that field saves the rest.
    data.update(version=2, keep_current="custom_fields.credit", credit="300")
    client.post(reverse("customers:edit", args=[customer.pk]), data)
    customer.refresh_from_db()
    assert customer.custom_fields["credit"] == "200.00"


def test_out_of_range_ids_in_list_filters_are_422_not_500(org, client_for):
    client = client_for(org["admin"])
    for name in ("department_id", "owner_id"):
        response = client.get(API, {name: "84990112084578172928"})
        assert response.status_code == 422, name


def test_a_list_request_reads_the_definitions_once(org, fields, make_customer, client_for):
    """The list builds several filtersets (search windows, the count) and searches the
    custom text: the definitions come from the database once per request, and a change
    made by an earlier request is seen by the next one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_customer(org["admin"], name="深圳定义读取测试有限公司")
    client = client_for(org["admin"])

    def definition_reads(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return sum('"core_customfield"' in q["sql"] for q in ctx.captured_queries)

    assert definition_reads(f"{LIST}?q=定义读取&cf_staff__from=1") == 1


def test_a_field_saved_during_a_request_is_seen_by_the_same_request(org, fields, rf):
    from guanxi.core.custom_fields import definitions
    from guanxi.core.request_memo import RequestMemoMiddleware

    seen: list[list[str]] = []

    def view(request):
        seen.append([f.label for f in definitions("customer")])
        custom_field_update(actor=org["admin"], field=fields["staff"], data={"label": "员工数"})
        seen.append([f.label for f in definitions("customer")])
        return None

    RequestMemoMiddleware(view)(rf.get("/"))
    assert "员工人数" in seen[0] and "员工数" not in seen[0]
    assert "员工数" in seen[1]
