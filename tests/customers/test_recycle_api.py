"""Recycle bin API over real HTTP: list, restore, purge, scope (404) and permission (403)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.dateparse import parse_datetime

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer, StatusChange
from tests.customers.recycle_support import deleted_customer, rep_who_may_delete
from tests.customers.test_api import Api

pytestmark = pytest.mark.django_db
BIN = "/api/v1/recycle-bin/customers"


def purge(api: Api, pk: int, body: object):
    return api.client.delete(f"{BIN}/{pk}", body, content_type="application/json", **api.headers)


def test_list_shows_deleted_customers_in_scope_newest_first(org, make_customer, settings):
    settings.GUANXI_RECYCLE_BIN_DAYS = 30
    first = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    second = deleted_customer(make_customer, org["rep_b"], deleter=org["manager"])
    outside = deleted_customer(make_customer, org["admin"])  # head office: not the manager's
    make_customer(org["rep_a"])  # live: never in the bin
    response = Api(org["manager"]).get(BIN)
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [i["id"] for i in items] == [second.pk, first.pk]
    item = items[1]
    assert set(item) == {
        "id",
        "code",
        "name",
        "status",
        "owner_id",
        "deleted_at",
        "deleted_by",
        "purge_after",
    }
    assert (item["code"], item["name"], item["status"]) == (
        first.code,
        first.name,
        "not_cooperating",
    )
    assert item["owner_id"] == org["rep_a"].pk
    assert item["deleted_by"] == {"id": org["manager"].pk, "name": org["manager"].display_name}
    deleted_at = parse_datetime(item["deleted_at"])
    assert deleted_at == first.deleted_at
    assert parse_datetime(item["purge_after"]) == deleted_at + dt.timedelta(days=30)
    assert response.json()["next_cursor"] is None
    admin_ids = [i["id"] for i in Api(org["admin"]).get(BIN).json()["items"]]
    assert outside.pk in admin_ids


def test_list_pages_with_a_cursor_and_refuses_a_bad_one(org, make_customer):
    customers = [deleted_customer(make_customer, org["admin"]) for _ in range(3)]
    api = Api(org["admin"])
    page1 = api.get(BIN, limit=2).json()
    page2 = api.get(BIN, limit=2, cursor=page1["next_cursor"]).json()
    ids = [i["id"] for i in page1["items"] + page2["items"]]
    assert ids == [c.pk for c in reversed(customers)]
    assert page2["next_cursor"] is None
    bad = api.get(BIN, cursor="bm90LWEtY3Vyc29y")
    assert bad.status_code == 422 and bad.json()["code"] == "ERR-006"


def test_list_query_count_does_not_grow_with_rows(
    org, make_customer, django_assert_max_num_queries
):
    for _ in range(6):
        deleted_customer(make_customer, org["admin"])
    api = Api(org["admin"])
    api.get(BIN)  # warm the token and permission lookups of this client
    with django_assert_max_num_queries(6):
        assert len(api.get(BIN).json()["items"]) == 6


def test_bin_needs_delete_permission(org, make_customer):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["admin"])
    api = Api(org["rep_a"])  # owns the customer, but may not delete
    response = api.get(BIN)
    assert response.status_code == 403 and response.json()["code"] == "ERR-002"
    assert api.post(f"/api/v1/customers/{customer.pk}/restore", {}).status_code == 403
    assert purge(api, customer.pk, {"reason": "清理"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    refusals = AuditEntry.objects.filter(actor=org["rep_a"], result="denied")
    assert set(refusals.values_list("action", flat=True)) == {
        "customer.restore",
        "customer.purge",
    }


def test_out_of_scope_customer_is_404_for_a_sales_rep(org, make_customer):
    rep = rep_who_may_delete(org["team_a"])
    others = deleted_customer(make_customer, org["rep_b"], deleter=org["admin"])
    own = deleted_customer(make_customer, rep)
    api = Api(rep)
    assert [i["id"] for i in api.get(BIN).json()["items"]] == [own.pk]
    response = api.post(f"/api/v1/customers/{others.pk}/restore", {})
    assert response.status_code == 404 and response.json()["code"] == "ERR-005"
    assert Customer.objects.get(pk=others.pk).deleted_at is not None
    assert api.post(f"/api/v1/customers/{own.pk}/restore", {}).status_code == 200


def test_restore_answers_the_live_customer(org, make_customer):
    customer = deleted_customer(make_customer, org["admin"])
    api = Api(org["admin"])
    response = api.post(f"/api/v1/customers/{customer.pk}/restore", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["version"]) == (
        customer.pk,
        "not_cooperating",
        customer.version + 1,
    )
    assert api.get(f"/api/v1/customers/{customer.pk}").status_code == 200
    assert customer.pk not in [i["id"] for i in api.get(BIN).json()["items"]]
    entry = AuditEntry.objects.get(action="customer.restore", object_id=str(customer.pk))
    assert entry.result == "success" and entry.actor == org["admin"]
    # Restoring again: it is no longer in the bin.
    again = api.post(f"/api/v1/customers/{customer.pk}/restore", {})
    assert again.status_code == 404


def test_restore_refused_when_a_live_customer_took_the_name(org, make_customer):
    customer = deleted_customer(make_customer, org["admin"], name="接口重名公司")
    taker = make_customer(org["admin"], name="接口重名公司")
    response = Api(org["admin"]).post(f"/api/v1/customers/{customer.pk}/restore", {})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ERR-012"
    assert body["duplicates"][0]["id"] == taker.pk
    assert body["matched_on"] == ["name"]
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_purge_with_reason(org, make_customer):
    customer = deleted_customer(make_customer, org["admin"], tags=["大客户"])
    api = Api(org["data_admin"])
    response = purge(api, customer.pk, {"reason": "重复录入，已合并"})
    assert response.status_code == 204, response.content
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not StatusChange.objects.filter(customer_id=customer.pk).exists()
    entry = AuditEntry.objects.get(action="customer.purge", object_id=str(customer.pk))
    assert entry.params["reason"] == "重复录入，已合并"
    assert entry.params["code"] == customer.code
    assert customer.mobile not in str(entry.params) + str(entry.changes)
    assert purge(api, customer.pk, {"reason": "再来一次"}).status_code == 404


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "长" * 501}])
def test_purge_without_reason_is_422_and_changes_nothing(org, make_customer, body):
    customer = deleted_customer(make_customer, org["admin"])
    response = purge(Api(org["admin"]), customer.pk, body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "ERR-006"
    assert "reason" in response.json()["errors"]
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_purge_of_live_or_unknown_customer_is_404(org, make_customer):
    live = make_customer(org["admin"])
    api = Api(org["admin"])
    assert purge(api, live.pk, {"reason": "清理"}).status_code == 404
    assert purge(api, 99999999, {"reason": "清理"}).status_code == 404
    assert purge(api, "junk", {"reason": "清理"}).status_code == 404
    assert Customer.objects.filter(pk=live.pk, deleted_at__isnull=True).exists()


def test_manager_may_restore_but_not_purge(org, make_customer):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    response = purge(Api(org["manager"]), customer.pk, {"reason": "清理"})
    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
