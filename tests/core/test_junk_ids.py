"""Ids that are not ids (text, fractions, out of bigint range) are a 404 on every door,
never a database error: Django matches out-of-range integers to nothing."""

import pytest

from guanxi.audit.services import audit_record
from guanxi.workflow.notifications import notify

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("pk", [HUGE, "-1", "0", "abc", "1.5", str(2**63)])
def test_api_answers_404_for_junk_ids(org, client_for, pk):
    admin = org["admin"]
    audit_record(actor=admin, action="x.y")
    notify([admin], kind="k", title="t")
    api = client_for(admin)
    assert api.post(f"/api/v1/notifications/{pk}/read").status_code == 404
    assert api.get(f"/api/v1/audit/{pk}").status_code == 404


def test_pages_answer_404_for_out_of_range_ids(org, client_for):
    page = client_for(org["admin"])
    for url in (f"/settings/audit/{HUGE}/", f"/notifications/{HUGE}/open/"):
        assert page.get(url).status_code == 404, url
    assert page.post(f"/notifications/{HUGE}/read/").status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("¹", None),  # isdigit() says yes, int() says no
        ("²³", None),
        ("١٢", None),  # Arabic-Indic digits: int() would take them, ids are ASCII
        ("1" * 18, int("1" * 18)),
        ("1" * 19, None),
        ("-1", None),
        (" 7", None),
        ("", None),
        (None, None),
        (7, 7),
        (-7, None),
        (True, None),
    ],
)
def test_parse_id(value, expected):
    from guanxi.core.ids import parse_id

    assert parse_id(value) == expected


@pytest.mark.parametrize("pk", ["¹", "²³", "٣"])
def test_digit_like_ids_are_404_not_500(org, client_for, pk):
    """Found by schemathesis: ``DELETE /api/v1/contacts/¹`` was a 500 (isdigit, then int)."""
    api = client_for(org["admin"])
    for method, url in (
        ("get", f"/api/v1/contacts/{pk}"),
        ("delete", f"/api/v1/contacts/{pk}"),
        ("get", f"/api/v1/customers/{pk}"),
        ("get", f"/api/v1/follow-ups/{pk}"),
    ):
        assert getattr(api, method)(url).status_code == 404, (method, url)
    listed = api.get("/api/v1/contacts", {"customer_id": pk})
    # A validation error where the query's integer field refuses it, else an empty list.
    assert listed.status_code == 422 or listed.json()["items"] == [], listed.content
    page = client_for(org["admin"])
    assert page.get("/customers/churn/", {"customer": pk}).status_code in (200, 403)


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/follow-ups", "/api/v1/contacts"])
def test_huge_customer_id_filters_are_refused_not_500(org, client_for, path):
    """Found by schemathesis: ``/api/v1/tasks?customer_id=<28 digits>`` reached SQLite's
    driver, which cannot bind it (OverflowError, a 500)."""
    response = client_for(org["admin"]).get(path, {"customer_id": HUGE})
    assert response.status_code == 422 or response.json()["items"] == [], response.content
