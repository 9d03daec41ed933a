"""Odd but well-formed parameters get an answer, never a server error."""

import pytest

BASE = "/api/v1/reports"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [
        {"created_from": "0975-12-01", "follow_up_due": "overdue", "status": "not_cooperating"},
        {"created_to": "0001-01-01"},
        {"created_from": "9999-12-31"},
        {"category": "ò\x91\x88ç\x04\x0cÿ", "q": "¹î\x02\x8auY"},
    ],
)
def test_growth_with_far_dates_and_control_characters(org, make_customer, client_for, params):
    make_customer(org["rep_a"])
    client = client_for(org["admin"])
    response = client.get(f"{BASE}/customers/growth", params)
    assert response.status_code in (200, 422), response.content
    listed = client.get("/api/v1/customers", params)
    assert listed.status_code in (200, 400, 422), listed.content
