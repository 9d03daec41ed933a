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


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("follow-ups/activity", {"by": "method", "from": "0005-01-07", "to": "0001-01-02"}),
        ("follow-ups/activity", {"by": "day", "to": "0001-01-02"}),
        ("follow-ups/activity", {"by": "owner", "from": "9999-12-30", "to": "9999-12-31"}),
        ("customers/growth", {"to": "0001-12-31"}),
        ("customers/status-transitions", {"from": "1899-12-31", "to": "1900-01-02"}),
    ],
)
def test_dates_near_the_calendars_ends_are_422(org, client_for, path, params):
    """Found by schemathesis: ``to=0001-01-02`` made the default start (30 days earlier) a
    date before year 1, a 500. Report dates now lie in 1900-01-01 .. 2999-12-31."""
    response = client_for(org["admin"]).get(f"{BASE}/{path}", params)
    assert response.status_code == 422, response.content
    assert "1900-01-01" in response.content.decode()


def test_report_pages_refuse_dates_near_the_calendars_ends(org, client_for):
    page = client_for(org["admin"])
    response = page.get("/reports/activity/", {"from": "0001-01-01", "to": "0001-01-02"})
    assert response.status_code == 422, response.status_code
    assert "1900-01-01" in response.content.decode()
