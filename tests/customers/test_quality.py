"""Data quality: the completeness score (Python and SQL agree), the sampled monthly check,
marking results, and the quality page's numbers against direct counts."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import PermissionDenied
from guanxi.customers import quality, services
from guanxi.customers.models import Customer
from guanxi.customers.quality_score import completeness, completeness_sql
from guanxi.workflow.models import Notification

pytestmark = pytest.mark.django_db

FULL = {"email": "a@example.com", "address": "科技园1号"}


def test_score_counts_twelve_fields():
    assert completeness({}) == 0
    values = {
        "name": "甲",
        "contact_name": "乙",
        "mobile": "13900000000",
        "email": "a@b.cn",
        "uscc": "x",
        "province": "p",
        "city": "c",
        "district": "d",
        "address": "a",
        "industry": "I",
        "category": "vip",
        "source": "web",
    }
    assert completeness(values) == 100
    assert completeness({**values, "email": ""}) == 92  # 11/12
    # A person is judged by the ID number, not the USCC.
    assert completeness({**values, "customer_type": "individual"}) == 92
    assert completeness({**values, "customer_type": "individual", "id_number": "1"}) == 100


def test_services_keep_the_score_and_sql_agrees(org, make_customer):
    sparse = make_customer(org["admin"], industry="", category="", source="")
    rich = make_customer(org["admin"], email="rich@example.com", address="科技园1号")
    person = make_customer(org["admin"], customer_type="individual", id_number="11010519491231002X")
    assert sparse.completeness == round(100 * 6 / 12)
    assert rich.completeness == round(100 * 11 / 12)
    updated = services.customer_update(
        actor=org["admin"], customer=sparse, data={"industry": "I"}, version=sparse.version
    )
    assert updated.completeness == round(100 * 7 / 12)
    stored = dict(Customer.objects.values_list("pk", "completeness"))
    computed = dict(Customer.objects.annotate(score=completeness_sql()).values_list("pk", "score"))
    assert stored == computed
    assert stored[person.pk] == round(100 * 10 / 12)


def test_sampling_draws_the_share_and_notifies(org, make_customer):
    for _ in range(5):
        make_customer(org["rep_a"])
    check = quality.sample(0.5)
    assert check.population == 5 and check.items.count() == 3  # ceil(2.5)
    assert len(set(check.items.values_list("customer_id", flat=True))) == 3
    notified = set(
        Notification.objects.filter(kind="quality").values_list("recipient_id", flat=True)
    )
    assert org["data_admin"].pk in notified and org["rep_a"].pk not in notified
    with pytest.raises(ValidationError):
        quality.sample(1.5)
    out = io.StringIO()
    call_command("quality_sample", "--rate", "1", stdout=out)
    assert "5 of 5 customer(s)" in out.getvalue()


def test_marking_items(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    check = quality.sample(1)
    item = check.items.get()
    with pytest.raises(PermissionDenied):
        quality.mark_item(actor=org["rep_a"], item=item, status="verified")
    with pytest.raises(ValidationError):
        quality.mark_item(actor=org["data_admin"], item=item, status="corrected")
    client = client_for(org["data_admin"])
    page = client.get(reverse("customers:quality_check", args=[check.pk])).content.decode()
    assert customer.code in page
    response = client.post(
        reverse("customers:quality_mark", args=[item.pk]),
        {"status": "corrected", "note": "手机号已更新", "return_query": "status=pending"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.note, item.checked_by) == (
        "corrected",
        "手机号已更新",
        org["data_admin"],
    )
    pending = client.get(reverse("customers:quality_check", args=[check.pk])).content.decode()
    assert 'data-testid="quality-item"' not in pending  # the pending tab no longer lists it
    entry = AuditEntry.objects.get(action="quality.verify", result="success")
    assert entry.object_id == str(customer.pk)
    assert client_for(org["rep_a"]).get(reverse("customers:quality")).status_code == 403


def test_overview_numbers_equal_direct_counts_in_scope(org, make_customer, client_for):
    make_customer(org["rep_a"], industry="", email="x@example.com")
    make_customer(org["rep_b"], **FULL)
    make_customer(org["admin"], name="深圳市甲乙科技有限公司")
    make_customer(org["admin"], name="甲乙科技有限公司")  # same name core: a duplicate pair
    quality.sample(1)
    numbers = quality.overview(org["data_admin"])
    live = Customer.objects.alive()
    assert numbers["count"] == live.count() == 4
    missing = dict(numbers["missing"])
    assert missing["所属行业"] == live.filter(industry="").count() == 1
    assert missing["邮箱"] == live.filter(email_bidx="").count()
    assert sum(n for _label, n in numbers["bands"]) == 4
    assert numbers["duplicates"]["相似名称"] == 1
    assert numbers["unverified"] == 4
    page = client_for(org["data_admin"]).get(reverse("customers:quality")).content.decode()
    assert 'data-testid="q-count">4<' in page
    # A manager without the permission is refused; the data is never computed for them.
    with pytest.raises(PermissionDenied):
        quality.overview(org["manager"])


def test_page_numbers_are_kept_for_a_while_and_refresh_on_request(org, make_customer, client_for):
    make_customer(org["rep_a"])
    client = client_for(org["data_admin"])
    url = reverse("customers:quality")
    assert 'data-testid="q-count">1<' in client.get(url).content.decode()
    make_customer(org["rep_a"])
    assert 'data-testid="q-count">1<' in client.get(url).content.decode()  # kept
    assert 'data-testid="q-count">2<' in client.get(url + "?refresh=1").content.decode()
    # The unverified count is always current.
    quality.sample(1)
    assert 'data-testid="q-unverified">2<' in client.get(url).content.decode()
