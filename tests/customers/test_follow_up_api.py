"""Follow-ups and interactions API over real HTTP (API.md "Relationship")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer, FollowUp
from tests.customers.test_api import Api

pytestmark = pytest.mark.django_db
URL = "/api/v1/follow-ups"


def _body(customer, **overrides):
    body = {"customer_id": customer.pk, "method": "拜访", "content": "上门拜访，演示产品"}
    body.update(overrides)
    return body


def test_create_read_and_customer_stamps(org, make_customer):
    customer = make_customer(org["rep_a"])
    api = Api(org["rep_a"])
    next_at = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = api.post(
        URL, _body(customer, result="需求确认", next_follow_up_at=next_at, next_plan="发报价单")
    )
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["method"] == "visit" and item["method_label"] == "拜访"
    assert item["result_label"] == "需求确认" and item["owner_id"] == org["rep_a"].pk
    assert item["customer_name"] == customer.name and item["version"] == 1
    current = Customer.objects.get(pk=customer.pk)
    assert current.last_follow_up_at is not None and current.next_follow_up_at is not None
    one = api.get(f"{URL}/{item['id']}")
    assert one.status_code == 200 and one.json()["next_plan"] == "发报价单"


def test_422_bodies_name_the_fields(org, make_customer):
    customer = make_customer(org["rep_a"])
    api = Api(org["rep_a"])
    response = api.post(
        URL,
        _body(
            customer,
            method="信鸽",
            content="",
            followed_at=(timezone.now() + dt.timedelta(days=2)).isoformat(),
        ),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ERR-006"
    assert set(body["errors"]) == {"method", "content", "followed_at"}
    missing = api.post(URL, {"method": "电话", "content": "x"})
    assert missing.status_code == 422 and "customer_id" in missing.json()["errors"]
    assert not FollowUp.objects.exists()


def test_scope_404_and_service_rep_403(org, make_customer):
    customer = make_customer(org["rep_a"])
    assert Api(org["rep_b"]).post(URL, _body(customer)).status_code == 404
    refused = Api(org["service_rep"]).post(URL, _body(customer))
    assert refused.status_code == 403 and refused.json()["code"] == "ERR-002"
    assert AuditEntry.objects.filter(action="follow_up.create", result="denied").count() == 2
    created = Api(org["rep_a"]).post(URL, _body(customer)).json()
    # Service reps read every follow-up but edit none.
    service = Api(org["service_rep"])
    assert service.get(f"{URL}/{created['id']}").status_code == 200
    patch = service.patch(f"{URL}/{created['id']}", {"content": "改", "version": 1})
    assert patch.status_code == 403
    other = Api(org["rep_b"])
    assert other.get(f"{URL}/{created['id']}").status_code == 404
    assert other.patch(f"{URL}/{created['id']}", {"content": "x"}).status_code == 404
    assert other.get(URL, customer_id=customer.pk).json()["items"] == []
    anonymous = Client().get(URL)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "ERR-001"


def test_list_filters_and_cursor(org, make_customer):
    a = make_customer(org["rep_a"])
    b = make_customer(org["rep_a"])
    api = Api(org["rep_a"])
    now = timezone.now()
    for i in range(5):
        api.post(
            URL,
            _body(
                a if i % 2 else b,
                followed_at=(now - dt.timedelta(hours=i + 1)).isoformat(),
                next_follow_up_at=(now + dt.timedelta(days=i)).isoformat(),
            ),
        )
    Api(org["manager"]).post(URL, _body(a))
    everything = api.get(URL).json()["items"]
    assert len(everything) == 6
    assert [i["customer_id"] for i in api.get(URL, customer_id=a.pk).json()["items"]].count(
        a.pk
    ) == 3
    mine = api.get(URL, owner_id=org["rep_a"].pk).json()["items"]
    assert len(mine) == 5
    due = api.get(URL, due_before=(now + dt.timedelta(days=1, hours=1)).isoformat()).json()
    assert len(due["items"]) == 2
    first = api.get(URL, limit=4).json()
    second = api.get(URL, limit=4, cursor=first["next_cursor"]).json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 6 and second["next_cursor"] is None
    bad = api.get(URL, owner_id="abc")
    assert bad.status_code == 422 and "owner_id" in bad.json()["errors"]
    assert api.get(URL, cursor="garbage").status_code == 422


def test_patch_with_version_and_conflict(org, make_customer):
    customer = make_customer(org["rep_a"])
    api = Api(org["rep_a"])
    created = api.post(URL, _body(customer)).json()
    url = f"{URL}/{created['id']}"
    ok = api.patch(url, {"content": "补充纪要", "result": "问题解决", "version": 1})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api.patch(url, {"content": "又改", "version": 1})
    assert stale.status_code == 409 and stale.json()["current"]["content"] == "补充纪要"
    invalid = api.patch(url, {"next_follow_up_at": "2000-01-01T00:00:00+08:00", "version": 2})
    assert invalid.status_code == 422 and "next_follow_up_at" in invalid.json()["errors"]


def test_interactions_and_timeline(org, make_customer):
    customer = make_customer(org["rep_a"])
    service = Api(org["service_rep"])
    made = service.post(
        "/api/v1/interactions",
        {"customer_id": customer.pk, "kind": "投诉咨询", "subject": "售后投诉"},
    )
    assert made.status_code == 201 and made.json()["kind"] == "complaint"
    bad = service.post("/api/v1/interactions", {"customer_id": customer.pk, "kind": "??"})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"kind", "subject"}
    Api(org["rep_a"]).post(URL, _body(customer))
    timeline = service.get(f"/api/v1/customers/{customer.pk}/timeline").json()
    kinds = [i["kind"] for i in timeline["items"]]
    assert set(kinds) == {"follow_up", "interaction", "status_change"}
    assert kinds[0] == "follow_up"  # newest first
    only = service.get(f"/api/v1/customers/{customer.pk}/timeline", kind="interaction").json()
    assert [i["kind"] for i in only["items"]] == ["interaction"]
    unknown = service.get(f"/api/v1/customers/{customer.pk}/timeline", kind="nope")
    assert unknown.status_code == 422
    hidden = Api(org["rep_b"]).get(f"/api/v1/customers/{customer.pk}/timeline")
    assert hidden.status_code == 404


# Every default role against a follow-up of a customer owned by rep_a (team A, under 销售部):
# (create answer, read answer). Outside the read scope 404; inside it without the permission
# 403; inside the read scope but outside the write scope 404 (DESIGN.md, API.md).
MATRIX = {
    "admin": (201, 200),
    "data_admin": (201, 200),
    "manager": (201, 200),
    "rep_a": (201, 200),
    "rep_b": (404, 404),
    "service_rep": (403, 200),
    "marketing": (403, 200),
    "finance": (403, 200),
    "analyst": (403, 200),
}


@pytest.mark.parametrize("actor", sorted(MATRIX))
def test_role_matrix(org, make_customer, actor):
    customer = make_customer(org["rep_a"])
    existing = Api(org["rep_a"]).post(URL, _body(customer)).json()
    api = Api(org[actor])
    create, read = MATRIX[actor]
    assert api.post(URL, _body(customer, content="矩阵")).status_code == create
    assert api.get(f"{URL}/{existing['id']}").status_code == read
    listed = api.get(URL, customer_id=customer.pk).json()["items"]
    assert bool(listed) == (read == 200)
    timeline = api.get(f"/api/v1/customers/{customer.pk}/timeline")
    assert timeline.status_code == read
    assert FollowUp.objects.filter(content="矩阵").count() == (create == 201)
