"""Tags (标签): the services (validation, audit), bulk tagging limited to the write scope, the
标签管理 / 标签规则 pages, the list's 批量打标签 action, the 自动 marker, and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import DeleteRefused, PermissionDenied
from guanxi.customers import tag_rules
from guanxi.customers.models import Customer, CustomerTag, Tag, TagRule
from guanxi.customers.tag_rule_services import ensure_seed_rules
from guanxi.customers.tags import tag_create, tag_delete, tag_update, tags_apply
from tests.customers.test_api import Api

pytestmark = pytest.mark.django_db


def _names(customer: Customer) -> dict[str, int | None]:
    rows = CustomerTag.objects.filter(customer=customer).select_related("tag")
    return {r.tag.name: r.rule_id for r in rows}


# --- services ------------------------------------------------------------------------------


def test_tag_create_validates_and_audits(org: dict[str, Any]) -> None:
    admin = org["admin"]
    with pytest.raises(ValidationError) as exc:
        tag_create(actor=admin, data={"name": " ", "color": "red", "tag_type": "nope"})
    assert set(exc.value.message_dict) == {"name", "color", "tag_type"}
    tag = tag_create(
        actor=admin, data={"name": "制造业", "color": "#AABBCC", "tag_type": "行业标签"}
    )
    assert (tag.color, tag.tag_type) == ("#aabbcc", "industry")  # label → code
    assert AuditEntry.objects.filter(action="tag.create", object_id=str(tag.pk)).exists()
    with pytest.raises(ValidationError) as exc:
        tag_create(actor=admin, data={"name": "制造业"})
    assert "name" in exc.value.message_dict
    tag = tag_update(actor=admin, tag=tag, data={"color": "#112233"})
    assert tag.color == "#112233"
    with pytest.raises(PermissionDenied):
        tag_create(actor=org["rep_a"], data={"name": "x"})
    assert not Tag.objects.filter(name="x").exists()


def test_tag_delete_refused_while_a_rule_uses_it(org: dict[str, Any], make_customer: Any) -> None:
    ensure_seed_rules()
    used = Tag.objects.get(name="流失风险")
    with pytest.raises(DeleteRefused):
        tag_delete(actor=org["admin"], tag=used)
    free = Tag.objects.create(name="可删")
    CustomerTag.objects.create(customer=make_customer(org["rep_a"]), tag=free)
    tag_delete(actor=org["admin"], tag=free)
    assert not Tag.objects.filter(name="可删").exists()
    entry = AuditEntry.objects.get(action="tag.delete", result="success")
    assert entry.params["customers"] == 1


def test_bulk_tagging_only_in_write_scope(org: dict[str, Any], make_customer: Any) -> None:
    own = make_customer(org["rep_a"])
    foreign = make_customer(org["rep_b"])
    vip = Tag.objects.create(name="VIP")
    result = tags_apply(actor=org["rep_a"], customer_ids=[own.pk, foreign.pk], add=[vip.pk])
    assert result == {"changed": [own.pk], "skipped": 1}
    assert _names(own) == {"VIP": None} and _names(foreign) == {}
    own.refresh_from_db()
    assert own.version == 2
    entry = AuditEntry.objects.get(action="customer.tags_apply")
    assert entry.params["customer_ids"] == [own.pk] and entry.params["skipped"] == 1
    # The manager's scope covers both teams.
    result = tags_apply(
        actor=org["manager"], customer_ids=[own.pk, foreign.pk], add=[vip.pk], remove=[]
    )
    assert result["changed"] == [foreign.pk]
    result = tags_apply(actor=org["manager"], customer_ids=[own.pk, foreign.pk], remove=[vip.pk])
    assert sorted(result["changed"]) == sorted([own.pk, foreign.pk])
    assert _names(own) == {} and _names(foreign) == {}


def test_bulk_tagging_validation_and_permission(org: dict[str, Any], make_customer: Any) -> None:
    customer = make_customer(org["rep_a"])
    with pytest.raises(ValidationError) as exc:
        tags_apply(actor=org["admin"], customer_ids=[], add=[999999])
    assert {"customer_ids", "add"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        tags_apply(actor=org["admin"], customer_ids=[customer.pk])
    assert "add" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        tags_apply(actor=org["analyst"], customer_ids=[customer.pk], add=[])
    assert _names(customer) == {}


def test_manual_add_makes_a_rule_tag_manual(org: dict[str, Any], make_customer: Any) -> None:
    ensure_seed_rules()
    customer = make_customer(org["rep_a"], status="cooperating")
    tag_rules.evaluate_all()
    churn = Tag.objects.get(name="流失风险")
    assert _names(customer)["流失风险"] is not None
    tags_apply(actor=org["admin"], customer_ids=[customer.pk], add=[churn.pk])
    assert _names(customer) == {"流失风险": None}
    Customer.objects.filter(pk=customer.pk).update(status="lost")
    tag_rules.evaluate_all()
    assert _names(customer) == {"流失风险": None}  # manual now: stays


# --- pages ---------------------------------------------------------------------------------


def test_tag_pages_create_edit_delete(org: dict[str, Any], client_for: Any) -> None:
    client = client_for(org["admin"])
    html = client.get(reverse("customers:tag_list")).content.decode()
    assert "标签管理" in html
    bad = client.post(reverse("customers:tag_create"), {"name": "", "color": "#zzzzzz"})
    assert bad.status_code == 422 and "此项为必填项" in bad.content.decode()
    response = client.post(
        reverse("customers:tag_create"),
        {"name": "华南区", "color": "#198754", "tag_type": "demand"},
    )
    assert response.status_code == 302
    tag = Tag.objects.get(name="华南区")
    assert (tag.color, tag.tag_type) == ("#198754", "demand")
    client.post(reverse("customers:tag_edit", args=[tag.pk]), {"name": "华南", "color": "#198754"})
    tag.refresh_from_db()
    assert tag.name == "华南"
    html = client.get(reverse("customers:tag_list")).content.decode()
    assert "华南" in html and "#198754" in html and "需求标签" not in html  # type kept? no: cleared
    client.post(reverse("customers:tag_delete", args=[tag.pk]))
    assert not Tag.objects.filter(pk=tag.pk).exists()


def test_tag_pages_need_permissions(org: dict[str, Any], client_for: Any) -> None:
    client = client_for(org["rep_a"])
    assert client.get(reverse("customers:tag_create")).status_code == 403
    assert client.post(reverse("customers:tag_create"), {"name": "x"}).status_code == 403
    assert client.get(reverse("customers:tag_rule_list")).status_code == 403
    assert not Tag.objects.filter(name="x").exists()


def test_tag_list_counts_customers_in_few_queries(
    org: dict[str, Any], make_customer: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        make_customer(org["rep_a"], tags=["老客户", f"标签{i}"])
    client = client_for(org["admin"])
    with django_assert_max_num_queries(12):
        html = client.get(reverse("customers:tag_list")).content.decode()
    assert "老客户" in html and ">6</a>" in html


def test_bulk_tag_action_on_the_list(
    org: dict[str, Any], make_customer: Any, client_for: Any
) -> None:
    a, b = make_customer(org["rep_a"]), make_customer(org["rep_b"])
    vip = Tag.objects.create(name="VIP")
    client = client_for(org["rep_a"])
    html = client.get(reverse("customers:list")).content.decode()
    assert 'id="gx-bulk-tag-form"' in html and f'name="ids" value="{a.pk}"' in html
    response = client.post(
        reverse("customers:tag_bulk_apply"),
        {"ids": [a.pk, b.pk], "tag": vip.pk, "mode": "add", "next": "/customers/?status=potential"},
    )
    assert response.status_code == 302 and response["Location"] == "/customers/?status=potential"
    assert _names(a) == {"VIP": None} and _names(b) == {}
    evil = client.post(
        reverse("customers:tag_bulk_apply"),
        {"ids": [a.pk], "tag": vip.pk, "mode": "remove", "next": "https://evil.example/"},
    )
    assert evil["Location"] == "/customers/" and _names(a) == {}


def test_list_page_query_count_with_tagging_controls(
    org: dict[str, Any], make_customer: Any, client_for: Any
) -> None:
    ensure_seed_rules()
    client = client_for(org["admin"])
    make_customer(org["rep_a"], tags=["老客户"])
    client.get(reverse("customers:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customers:list"))
    for i in range(8):
        make_customer(org["rep_a"], tags=["老客户", f"t{i}"])
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("customers:list"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_detail_shows_rule_name_on_auto_tags(
    org: dict[str, Any], make_customer: Any, client_for: Any
) -> None:
    ensure_seed_rules()
    customer = make_customer(org["rep_a"], status="cooperating", tags=["老客户"])
    tag_rules.evaluate_all()
    html = client_for(org["rep_a"]).get(reverse("customers:detail", args=[customer.pk]))
    text = html.content.decode()
    assert 'data-rule="流失风险"' in text and "由标签规则“流失风险”自动打上" in text
    assert "自动" in text and "老客户" in text


def test_rule_pages_edit_and_run(org: dict[str, Any], make_customer: Any, client_for: Any) -> None:
    ensure_seed_rules()
    make_customer(org["rep_a"], status="cooperating")
    client = client_for(org["admin"])
    html = client.get(reverse("customers:tag_rule_list")).content.decode()
    assert "高价值客户" in html and "立即执行" in html
    rule = TagRule.objects.get(name="流失风险")
    client.post(reverse("customers:tag_rule_run", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.last_run_count == 1 and rule.last_run_at is not None
    page = client.get(reverse("customers:tag_rule_edit", args=[rule.pk])).content.decode()
    assert 'name="cond_field"' in page and "距上次跟进天数" in page
    bad = client.post(
        reverse("customers:tag_rule_edit", args=[rule.pk]),
        {
            "name": rule.name,
            "tag_id": rule.tag_id,
            "enabled": "on",
            "cond_field": ["status", "follow_ups_90d"],
            "cond_op": ["eq", "gte"],
            "cond_value": ["cooperating", "很多"],
        },
    )
    assert bad.status_code == 422 and "请输入数字" in bad.content.decode()
    ok = client.post(
        reverse("customers:tag_rule_edit", args=[rule.pk]),
        {
            "name": rule.name,
            "tag_id": rule.tag_id,
            "enabled": "on",
            "cond_field": ["status", "province", ""],
            "cond_op": ["in", "eq", "eq"],
            "cond_value": ["合作客户,流失客户", "北京市", ""],
        },
    )
    assert ok.status_code == 302
    rule.refresh_from_db()
    assert rule.conditions == [
        {"field": "status", "op": "in", "value": ["cooperating", "lost"]},
        {"field": "province", "op": "eq", "value": "北京市"},
    ]
    assert not CustomerTag.objects.filter(rule=rule).exists()  # nobody in 北京市
    client.post(reverse("customers:tag_rule_toggle", args=[rule.pk]), {"enabled": "0"})
    rule.refresh_from_db()
    assert not rule.enabled


# --- API -----------------------------------------------------------------------------------


def test_api_tags_and_rules(org: dict[str, Any], make_customer: Any) -> None:
    ensure_seed_rules()
    admin = Api(org["admin"])
    customer = make_customer(org["rep_a"], status="cooperating", tags=["老客户"])
    created = admin.post("/api/v1/tags", {"name": "重点", "color": "#123456", "tag_type": "value"})
    assert created.status_code == 201 and created.json()["customer_count"] == 0
    bad = admin.post("/api/v1/tags", {"name": "", "color": "blue"})
    assert bad.status_code == 422 and {"name", "color"} <= set(bad.json()["errors"])
    items = admin.get("/api/v1/tags").json()["items"]
    assert {"老客户", "重点", "高价值客户"} <= {t["name"] for t in items}
    rules = admin.get("/api/v1/tag-rules").json()["items"]
    churn = next(r for r in rules if r["name"] == "流失风险")
    run = admin.post(f"/api/v1/tag-rules/{churn['id']}/run", {})
    assert run.status_code == 200 and run.json()["matched"] == 1
    record = admin.get(f"/api/v1/customers/{customer.pk}").json()
    assert record["tags"] == ["流失风险", "老客户"]
    assert {"name": "流失风险", "color": "#dc3545", "rule": "流失风险"} in record["tag_details"]
    assert {"name": "老客户", "color": "#0d6efd", "rule": None} in record["tag_details"]
    listed = admin.get("/api/v1/customers").json()["items"][0]
    assert listed["tag_details"] == record["tag_details"]
    bad_rule = admin.post(
        "/api/v1/tag-rules",
        {
            "name": "r",
            "tag_id": churn["tag_id"],
            "conditions": [{"field": "x", "op": "eq", "value": 1}],
        },
    )
    assert bad_rule.status_code == 422 and "conditions.0.field" in bad_rule.json()["errors"]
    made = admin.post(
        "/api/v1/tag-rules",
        {
            "name": "广东合作",
            "tag_id": created.json()["id"],
            "conditions": [{"field": "province", "op": "eq", "value": "广东省"}],
        },
    )
    assert made.status_code == 201 and made.json()["last_run_count"] == 1
    assert admin.post("/api/v1/tag-rules/999999/run", {}).status_code == 404
    rep = Api(org["rep_a"])
    assert rep.post("/api/v1/tags", {"name": "x"}).status_code == 403
    assert rep.get("/api/v1/tag-rules").status_code == 403


def test_api_bulk_tags_scope(org: dict[str, Any], make_customer: Any) -> None:
    own, foreign = make_customer(org["rep_a"]), make_customer(org["rep_b"])
    tag = Tag.objects.create(name="VIP")
    rep = Api(org["rep_a"])
    response = rep.post(
        "/api/v1/customers/tags", {"customer_ids": [own.pk, foreign.pk], "add": [tag.pk]}
    )
    assert response.status_code == 200
    assert response.json() == {"changed": [own.pk], "skipped": 1}
    bad = rep.post("/api/v1/customers/tags", {"customer_ids": [own.pk], "add": [987654]})
    assert bad.status_code == 422 and "add" in bad.json()["errors"]
    assert (
        Api(org["analyst"])
        .post("/api/v1/customers/tags", {"customer_ids": [own.pk], "add": [tag.pk]})
        .status_code
        == 403
    )
