"""Contacts API over real HTTP (API.md "Relationship"): every status path, and the data-scope
matrix — contacts follow their customer's scope (out of scope 404, no permission 403)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Contact
from tests.customers.test_api import Api

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts"


def session_api(user: Any) -> Any:
    """The API as a browser session uses it (cookie); the bearer path has its own test."""
    api = Api.__new__(Api)
    api.client = Client()
    api.client.force_login(user)
    api.headers = {}
    return api


@pytest.fixture
def world(org, make_customer):
    """One customer per owner: rep_a (team A), rep_b (team B), a manager-owned one."""
    customers = {
        "rep_a": make_customer(org["rep_a"], contact_name="张三", mobile="13800138000"),
        "rep_b": make_customer(org["rep_b"], contact_name="李四", mobile="13900139000"),
        "manager": make_customer(org["manager"], contact_name="王五", mobile="13700137000"),
    }
    primaries = {k: Contact.objects.get(customer=c) for k, c in customers.items()}
    return {"customers": customers, "contacts": primaries}


def test_bearer_token_create_read_list(org, world):
    api = Api(org["rep_a"])
    customer = world["customers"]["rep_a"]
    response = api.post(
        CONTACTS,
        {
            "customer_id": customer.pk,
            "name": "单雄信",
            "title": "采购经理",
            "mobile": "138 0013 8001",
            "phone": "010-12345678",
            "email": "Shan@Example.com",
            "wechat": "shan_xx",
            "birthday": "1988-08-08",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer_id"] == customer.pk and body["customer_name"] == customer.name
    assert body["mobile"] == "13800138001" and body["email"] == "shan@example.com"
    assert body["birthday"] == "1988-08-08" and body["is_primary"] is False
    assert body["version"] == 1 and body["department_name"] == ""
    assert api.get(f"{CONTACTS}/{body['id']}").json()["name"] == "单雄信"
    listed = api.get(CONTACTS, q="sxx").json()
    assert [c["name"] for c in listed["items"]] == ["单雄信"] and listed["next_cursor"] is None
    by_phone = api.get(CONTACTS, q="13800138001").json()["items"]
    assert [c["id"] for c in by_phone] == [body["id"]]
    nested = api.get(f"/api/v1/customers/{customer.pk}/contacts").json()["items"]
    assert [c["name"] for c in nested] == ["张三", "单雄信"]  # primary first


def test_unauthenticated_is_401(world):
    response = Client().get(CONTACTS)
    assert response.status_code == 401 and response.json()["code"] == "ERR-001"


def test_create_422_names_the_fields(org, world):
    api = session_api(org["rep_a"])
    customer = world["customers"]["rep_a"]
    response = api.post(
        CONTACTS,
        {"customer_id": customer.pk, "name": "", "mobile": "12", "birthday": "2999-01-01"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ERR-006"
    assert set(body["errors"]) == {"name", "mobile", "birthday"}
    assert body["errors"]["birthday"] == ["生日不能晚于今天"]
    missing = api.post(CONTACTS, {"name": "x"}).json()
    assert "customer_id" in missing["errors"]
    assert Contact.objects.filter(customer=customer).count() == 1


def test_patch_version_conflict_is_409_with_current(org, world):
    api = session_api(org["rep_a"])
    contact = world["contacts"]["rep_a"]
    url = f"{CONTACTS}/{contact.pk}"
    ok = api.patch(url, {"version": 1, "title": "总经理", "wechat": "zhangsan01"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api.patch(url, {"version": 1, "title": "旧"})
    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "ERR-007" and body["current"]["title"] == "总经理"
    assert api.patch(url, {"title": "x"}).status_code == 422  # version is required
    bad = api.patch(url, {"version": 2, "email": "nope"})
    assert bad.status_code == 422 and "email" in bad.json()["errors"]


def test_set_primary_by_patch_and_delete(org, world):
    api = session_api(org["rep_a"])
    customer = world["customers"]["rep_a"]
    new = api.post(CONTACTS, {"customer_id": customer.pk, "name": "李雷", "is_primary": True})
    assert new.json()["is_primary"] is True
    old = api.get(f"{CONTACTS}/{world['contacts']['rep_a'].pk}").json()
    assert old["is_primary"] is False and old["version"] == 2
    assert api.delete(f"{CONTACTS}/{new.json()['id']}").status_code == 204
    assert api.get(f"{CONTACTS}/{new.json()['id']}").status_code == 404
    assert api.get(f"{CONTACTS}/{old['id']}").json()["is_primary"] is True


def test_bad_ids_and_filters(org, world):
    api = session_api(org["admin"])
    assert api.get(f"{CONTACTS}/abc").status_code == 404
    assert api.get(f"{CONTACTS}/99999999999999999999999").status_code == 404
    assert api.get(CONTACTS, customer_id="x").status_code == 422
    assert api.get(CONTACTS, limit=0).status_code == 422
    assert api.get(CONTACTS, cursor="garbage").status_code == 422
    assert api.get("/api/v1/customers/999999/contacts").status_code == 404


def test_pages_follow_cursor(org, make_customer):
    api = session_api(org["admin"])
    for _ in range(5):
        make_customer(org["rep_a"])
    first = api.get(CONTACTS, limit=3).json()
    second = api.get(CONTACTS, limit=3, cursor=first["next_cursor"]).json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


# --- the data-scope matrix -----------------------------------------------------------------------

# (actor, owner of the record) → expected status of a read and of a write (PATCH).
READ_ALL = ("admin", "data_admin", "service_rep", "marketing", "finance", "analyst")
MATRIX = [
    ("rep_a", "rep_a", 200, 200),
    ("rep_a", "rep_b", 404, 404),
    ("rep_a", "manager", 404, 404),
    ("rep_b", "rep_a", 404, 404),
    ("manager", "rep_a", 200, 200),
    ("manager", "rep_b", 200, 200),
    ("manager", "manager", 200, 200),
    ("admin", "rep_b", 200, 200),
    ("data_admin", "rep_a", 200, 200),
    *[(role, owner, 200, 403) for role in READ_ALL[2:] for owner in ("rep_a", "manager")],
]


@pytest.mark.parametrize(("actor", "owner", "read", "write"), MATRIX)
def test_scope_matrix(org, world, actor, owner, read, write):
    api = session_api(org[actor])
    contact = world["contacts"][owner]
    customer = world["customers"][owner]
    url = f"{CONTACTS}/{contact.pk}"
    got = api.get(url)
    assert got.status_code == read
    if read == 200:
        shown = got.json()["mobile"]
        full = actor == owner or actor in ("admin", "data_admin", "manager")
        assert (shown == contact.mobile) == full, shown
    nested = api.get(f"/api/v1/customers/{customer.pk}/contacts")
    assert nested.status_code == read
    listed = {c["id"] for c in api.get(CONTACTS, limit=500).json()["items"]}
    assert (contact.pk in listed) == (read == 200)
    response = api.patch(url, {"version": 1, "title": "改过"})
    assert response.status_code == write, response.content
    created = api.post(CONTACTS, {"customer_id": customer.pk, "name": "新人"})
    assert created.status_code == (201 if write == 200 else write)
    deleted = api.delete(url)
    assert deleted.status_code == (204 if write == 200 else write)
    contact.refresh_from_db()
    if write != 200:  # refused: nothing changed, and the refusal is audited
        assert contact.title == "" and contact.version == 1 and contact.deleted_at is None
        assert Contact.objects.filter(customer=customer).count() == 1
        refused = AuditEntry.objects.filter(action__startswith="contact.", result="denied")
        # 403: each of the three writes is refused and audited; 404 (outside the read
        # scope): only the create reaches a service that audits its refusal.
        assert refused.count() == (3 if write == 403 else 1)
    else:
        assert contact.title == "改过" and contact.deleted_at is not None


def test_user_without_roles_sees_nothing(org, world):
    nobody = org["admin"].__class__.objects.create_user(username="nobody", password="x")
    api = session_api(nobody)
    assert api.get(CONTACTS).json()["items"] == []
    assert api.get(f"{CONTACTS}/{world['contacts']['rep_a'].pk}").status_code == 404
    assert api.post(CONTACTS, {"customer_id": 1, "name": "x"}).status_code == 403


def test_openapi_documents_the_contact_endpoints(org):
    schema = session_api(org["admin"]).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/contacts"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/contacts/{id}"])
    assert "get" in paths["/api/v1/customers/{id}/contacts"]
