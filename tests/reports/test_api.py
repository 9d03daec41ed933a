"""The report endpoints over real HTTP: scope, drill-down agreement with the customer list
API, 401/403/422, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from guanxi.accounts.models import Role

from ..conftest import make_user
from .support import customers_in, follow_ups_in, seed, today

pytestmark = pytest.mark.django_db
BASE = "/api/v1/reports"


def _list_total(client, params) -> int:
    response = client.get("/api/v1/customers", {**params, "limit": 500})
    assert response.status_code == 200, response.json()
    return len(response.json()["items"])


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a", "analyst"])
def test_distribution_agrees_with_the_customer_list_api(org, make_customer, client_for, who):
    seed(org, make_customer)
    client = client_for(org[who])
    for by in ("status", "category", "city", "owner", "department"):
        body = client.get(f"{BASE}/customers/distribution", {"by": by}).json()
        assert body["total"] == customers_in(org, who).count() == _list_total(client, {})
        for item in body["items"]:
            assert {"key", "label", "count", "filter"} <= set(item)
            assert _list_total(client, item["filter"]) == item["count"]
    narrowed = client.get(f"{BASE}/customers/distribution", {"by": "status", "category": "normal"})
    assert narrowed.json()["total"] == _list_total(client, {"category": "normal"})


def test_growth_activity_transitions_and_dashboard(org, make_customer, client_for):
    seed(org, make_customer)
    client = client_for(org["manager"])
    start = (today() - dt.timedelta(days=6)).isoformat()
    growth = client.get(
        f"{BASE}/customers/growth", {"period": "day", "from": start, "to": today().isoformat()}
    ).json()
    assert len(growth["items"]) == 7 and growth["new_total"] == customers_in(org, "manager").count()
    activity = client.get(f"{BASE}/follow-ups/activity", {"by": "department", "from": start})
    assert activity.status_code == 200
    assert activity.json()["total"] == follow_ups_in(org, "manager").count()
    for item in activity.json()["items"]:
        listed = client.get("/api/v1/follow-ups", {**item["filter"], "limit": 500}).json()
        assert len(listed["items"]) == item["count"]
    transitions = client.get(f"{BASE}/customers/status-transitions").json()
    assert transitions["total"] >= 1 and transitions["statuses"]
    dashboard = client.get(f"{BASE}/dashboard").json()
    assert dashboard["customers"] == customers_in(org, "manager").count()
    assert set(dashboard["kpi_filters"]) == {
        "customers",
        "new_week",
        "new_month",
        "due_today",
        "overdue",
    }


def test_bearer_token_works(org, make_customer):
    seed(org, make_customer)
    client = Client()
    token = client.post(
        "/api/v1/auth/token",
        {"username": org["rep_a"].username, "password": "Guanxi-test-2026"},
        content_type="application/json",
    ).json()["token"]
    response = client.get(
        f"{BASE}/customers/distribution", {"by": "status"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200
    assert response.json()["total"] == customers_in(org, "rep_a").count()


@pytest.mark.parametrize(
    "path",
    [
        "/customers/distribution?by=status",
        "/customers/growth",
        "/follow-ups/activity?by=owner",
        "/customers/status-transitions",
        "/dashboard",
    ],
)
def test_anonymous_401_and_without_permission_403(org, client_for, path):
    assert Client().get(BASE + path).status_code == 401
    nobody = client_for(make_user(None, org["sales"]))
    response = nobody.get(BASE + path)
    assert response.status_code == 403 and response.json()["code"] == "ERR-002"
    # A role that reads customers but lacks the report permission is refused too.
    role = Role.objects.get(code="sales_rep")
    role.permissions.remove(*role.permissions.filter(codename="view_report"))
    rep = make_user("sales_rep", org["team_a"])
    assert client_for(rep).get(BASE + path).status_code == 403


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/customers/distribution?by=colour", "by"),
        ("/customers/distribution", "by"),
        ("/customers/distribution?by=status&status=nope", "status"),
        ("/customers/distribution?by=status&owner_id=abc", "owner_id"),
        ("/customers/growth?period=year", "period"),
        ("/customers/growth?from=2026-13-01", "from"),
        ("/customers/growth?from=2026-11-10&to=2026-11-01", "to"),
        ("/follow-ups/activity?by=owner&owner_id=x", "owner_id"),
        ("/customers/status-transitions?to=yesterday", "to"),
    ],
)
def test_bad_parameters_answer_422_with_field_errors(org, client_for, path, field):
    response = client_for(org["admin"]).get(BASE + path)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ERR-006" and field in body["errors"]


def test_openapi_documents_the_report_endpoints(org, client_for):
    schema = client_for(org["admin"]).get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/reports/customers/distribution",
        "/api/v1/reports/customers/growth",
        "/api/v1/reports/customers/status-transitions",
        "/api/v1/reports/follow-ups/activity",
        "/api/v1/reports/dashboard",
    ):
        assert path in schema["paths"], path
    params = {
        p["name"]
        for p in schema["paths"][f"{BASE.replace('/api/v1', '/api/v1')}/customers/distribution"][
            "get"
        ]["parameters"]
    }
    assert {"by", "status", "category", "follow_up_due"} <= params
