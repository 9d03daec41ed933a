"""Sensitive values: in full on lists and records for the owner and sensitive-data holders,
masked for everyone else, "显示" reveals one value (API and page) and every reveal is audited
without the value; links only for full values, always escaped."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
MOBILE_MASKED = "139****5678"
EMAIL = "zhangsan@example.com"
EMAIL_MASKED = "z***n@example.com"
PHONE = "010-87654321"
LIST = reverse("customers:list")


@pytest.fixture
def customer(org, make_customer) -> Customer:
    """Owned by rep_a (销售一组), created by the admin."""
    return make_customer(
        org["admin"], owner_id=org["rep_a"].pk, mobile=MOBILE, email=EMAIL, phone=PHONE
    )


def api_reveal(client: Client, customer_id: Any, field: Any = "mobile"):
    return client.post(
        f"/api/v1/customers/{customer_id}/reveal",
        {"field": field},
        content_type="application/json",
    )


def reveal_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="customer.reveal").order_by("id"))


def audit_text() -> str:
    """Everything the audit log holds about actions, as one string to search for plaintext."""
    return " ".join(
        f"{e.changes} {e.params} {e.object_repr}" for e in AuditEntry.objects.all().iterator()
    )


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep_a", "admin", "data_admin", "manager"])
def test_permitted_user_reveals_one_value_and_it_is_audited(org, customer, client_for, who):
    response = api_reveal(client_for(org[who]), customer.pk, "mobile")
    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": MOBILE}
    assert response["Cache-Control"] == "no-store"
    (entry,) = reveal_entries()
    assert (entry.result, entry.actor_id, entry.params) == (
        "success",
        org[who].pk,
        {"field": "mobile"},
    )
    assert (entry.object_type, entry.object_id) == ("customer", str(customer.pk))
    assert MOBILE not in audit_text()


@pytest.mark.parametrize("field,value", [("email", EMAIL), ("phone", PHONE), ("uscc", "")])
def test_each_personal_field_can_be_revealed(org, customer, client_for, field, value):
    response = api_reveal(client_for(org["rep_a"]), customer.pk, field)
    assert response.json() == {"field": field, "value": value}


@pytest.mark.parametrize("who", ["service_rep", "marketing", "finance", "analyst"])
def test_in_scope_user_without_permission_gets_403_and_a_denied_entry(
    org, customer, client_for, who
):
    response = api_reveal(client_for(org[who]), customer.pk)
    assert response.status_code == 403
    assert response.json()["code"] == "ERR-002"
    assert MOBILE not in response.content.decode()
    (entry,) = reveal_entries()
    assert (entry.result, entry.error_code, entry.params) == (
        "denied",
        "ERR-002",
        {"field": "mobile"},
    )


@pytest.mark.parametrize("pk", ["own-customer-of-rep-a", "999999", "abc"])
def test_out_of_scope_or_missing_is_404_and_audited(org, customer, client_for, pk):
    pk = customer.pk if pk == "own-customer-of-rep-a" else pk
    response = api_reveal(client_for(org["rep_b"]), pk)  # rep_b: own records only
    assert response.status_code == 404
    assert response.json()["code"] == "ERR-005"
    assert MOBILE not in response.content.decode()
    (entry,) = reveal_entries()
    assert (entry.result, entry.error_code, entry.object_id) == ("denied", "ERR-005", str(pk))


def test_out_of_scope_with_bad_field_is_still_404(org, customer, client_for):
    assert api_reveal(client_for(org["rep_b"]), customer.pk, "name").status_code == 404


@pytest.mark.parametrize("field", ["name", "password", "", "mobile_bidx"])
def test_unknown_field_is_422(org, customer, client_for, field):
    response = api_reveal(client_for(org["admin"]), customer.pk, field)
    assert response.status_code == 422
    assert response.json()["code"] == "ERR-006"
    assert "field" in response.json()["errors"]
    assert reveal_entries()[-1].result == "failed"


def test_reveal_needs_authentication_and_post(customer):
    assert api_reveal(Client(), customer.pk).status_code == 401
    assert Client().get(f"/api/v1/customers/{customer.pk}/reveal").status_code == 401
    assert not reveal_entries()


def test_deleted_customer_cannot_be_revealed(org, customer, client_for):
    Customer.objects.filter(pk=customer.pk).update(deleted_at="2026-01-01T00:00:00Z")
    assert api_reveal(client_for(org["admin"]), customer.pk).status_code == 404


def test_api_list_search_and_detail_full_for_permitted_masked_for_others(org, customer, client_for):
    for who, full in (("rep_a", True), ("admin", True), ("service_rep", False)):
        client = client_for(org[who])
        expected = (MOBILE, EMAIL) if full else (MOBILE_MASKED, EMAIL_MASKED)
        for params in ({}, {"q": MOBILE}, {"q": EMAIL}, {"q": customer.name}):
            (item,) = client.get("/api/v1/customers", params).json()["items"]
            assert (item["mobile"], item["email"]) == expected, (who, params)
    for who, full in (("rep_a", True), ("manager", True), ("service_rep", False)):
        record = client_for(org[who]).get(f"/api/v1/customers/{customer.pk}").json()
        assert record["mobile"] == (MOBILE if full else MOBILE_MASKED)
        assert record["phone"] == (PHONE if full else "010-****4321")


def test_setting_masks_the_record_too(org, customer, client_for, settings):
    settings.SHOW_SENSITIVE_BY_DEFAULT = False
    client = client_for(org["rep_a"])
    assert client.get(f"/api/v1/customers/{customer.pk}").json()["mobile"] == MOBILE_MASKED
    assert api_reveal(client, customer.pk).json()["value"] == MOBILE


def test_history_holds_masked_values_only_and_no_reveals(org, customer, client_for):
    client = client_for(org["admin"])
    api_reveal(client, customer.pk)
    response = client.patch(
        f"/api/v1/customers/{customer.pk}",
        {"mobile": "13800001111", "version": customer.version},
        content_type="application/json",
    )
    assert response.status_code == 200
    history = client.get(f"/api/v1/customers/{customer.pk}/history").json()["items"]
    assert [item["action"] for item in history] == ["customer.update", "customer.create"]
    assert history[0]["changes"]["mobile"] == {"before": MOBILE_MASKED, "after": "138****1111"}
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    history_html = html[html.index('id="change-history"') :]
    assert "138****1111" in history_html and "13800001111" not in history_html
    assert "13800001111" not in audit_text() and MOBILE not in audit_text()


# --- pages ----------------------------------------------------------------------------------


def _reveal_forms(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="field" value="(\w+)">', html)


def test_list_page_full_for_permitted_masked_without_show_for_others(org, customer, client_for):
    for who in ("rep_a", "admin"):
        html = client_for(org[who]).get(LIST).content.decode()
        assert f'href="tel:{MOBILE}"' in html and MOBILE_MASKED not in html, who
        assert _reveal_forms(html) == [], who
    html = client_for(org["service_rep"]).get(LIST).content.decode()
    assert MOBILE_MASKED in html and MOBILE not in html and "tel:" not in html
    assert _reveal_forms(html) == []


def test_list_page_with_masking_setting_offers_show_to_permitted(
    org, customer, client_for, settings
):
    settings.SHOW_SENSITIVE_BY_DEFAULT = False
    for who, offered in (("rep_a", True), ("admin", True), ("service_rep", False)):
        html = client_for(org[who]).get(LIST).content.decode()
        assert MOBILE_MASKED in html and MOBILE not in html, who
        assert _reveal_forms(html) == (["mobile"] if offered else []), who


def test_detail_page_full_with_links_for_owner_masked_without_for_others(org, customer, client_for):
    url = reverse("customers:detail", args=[customer.pk])
    html = client_for(org["rep_a"]).get(url).content.decode()
    assert f'href="tel:{MOBILE}"' in html and f'href="mailto:{EMAIL}"' in html
    assert f'href="tel:{PHONE}"' in html
    assert _reveal_forms(html) == []  # nothing masked, nothing to show
    html = client_for(org["service_rep"]).get(url).content.decode()
    assert MOBILE_MASKED in html and MOBILE not in html and EMAIL not in html
    assert "tel:" not in html and "mailto:" not in html
    assert _reveal_forms(html) == []  # may not reveal: no button


def test_detail_page_with_masking_setting_offers_show_per_field(
    org, customer, client_for, settings
):
    settings.SHOW_SENSITIVE_BY_DEFAULT = False
    html = client_for(org["rep_a"]).get(reverse("customers:detail", args=[customer.pk])).content
    html = html.decode()
    assert MOBILE not in html and MOBILE_MASKED in html
    assert _reveal_forms(html) == ["mobile", "phone", "email"]  # uscc is empty: nothing to show


def _csrf_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_show_button_swaps_in_the_value_with_csrf(org, customer):
    client = _csrf_client(org["rep_a"])
    html = client.get(LIST).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    url = reverse("customers:reveal", args=[customer.pk])
    assert client.post(url, {"field": "mobile"}, HTTP_HX_REQUEST="true").status_code == 403
    assert not reveal_entries()  # a forged request never reaches the service
    response = client.post(
        url, {"field": "mobile", "csrfmiddlewaretoken": token}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert f'id="personal-mobile-{customer.pk}"' in fragment
    assert f'href="tel:{MOBILE}"' in fragment and "<html" not in fragment
    assert response["Cache-Control"] == "no-store"
    assert reveal_entries()[0].params == {"field": "mobile"}


def test_show_without_javascript_renders_a_page(org, customer, client_for):
    response = client_for(org["admin"]).post(
        reverse("customers:reveal", args=[customer.pk]), {"field": "email"}
    )
    assert response.status_code == 200
    assert f'href="mailto:{EMAIL}"' in response.content.decode()
    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "field", "status"),
    [("service_rep", "mobile", 403), ("rep_b", "mobile", 404), ("admin", "name", 422)],
)
def test_show_refusals_on_pages(org, customer, client_for, who, field, status):
    url = reverse("customers:reveal", args=[customer.pk])
    response = client_for(org[who]).post(url, {"field": field}, HTTP_HX_REQUEST="true")
    assert response.status_code == status
    assert MOBILE not in response.content.decode()
    assert reveal_entries()[-1].result in ("denied", "failed")
    assert client_for(org["admin"]).get(url).status_code == 405


HOSTILE_EMAIL = 'x"><script>alert(1)</script>@evil.com'
HOSTILE_MOBILE = "138\" onclick='alert(2)'<b>"


def test_hostile_stored_values_are_escaped_and_never_linked(org, customer, client_for):
    """Stored data is validated, but a value saved past the services must still be inert."""
    customer.email = HOSTILE_EMAIL
    customer.mobile = HOSTILE_MOBILE
    customer.phone = ""  # a valid landline is linked; only the hostile values must not be
    customer.save()
    client = client_for(org["rep_a"])
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onclick='alert(2)'" not in html and "&#x27;alert(2)&#x27;" in html
    assert "mailto:" not in html and "tel:" not in html
    for field in ("email", "mobile"):
        url = reverse("customers:reveal", args=[customer.pk])
        response = client.post(url, {"field": field}, HTTP_HX_REQUEST="true")
        fragment = response.content.decode()
        assert "<script>" not in fragment and "<b>" not in fragment and "href" not in fragment
    assert api_reveal(client, customer.pk, "email").json()["value"] == HOSTILE_EMAIL  # JSON
