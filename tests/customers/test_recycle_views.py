"""回收站 pages over real HTTP: menu, list, restore and purge confirmations, scope and rights."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from tests.customers.recycle_support import age, deleted_customer, rep_who_may_delete

pytestmark = pytest.mark.django_db
BIN = reverse("customers:recycle_bin")


def _restore(pk: int) -> str:
    return reverse("customers:recycle_restore", args=[pk])


def _purge(pk: int) -> str:
    return reverse("customers:recycle_purge", args=[pk])


def test_menu_link_only_with_delete_permission(org, client_for):
    assert "回收站" in client_for(org["manager"]).get(reverse("customers:list")).content.decode()
    assert "回收站" not in client_for(org["rep_a"]).get(reverse("customers:list")).content.decode()


def test_bin_lists_deleted_customers_with_days_left(org, make_customer, client_for, settings):
    settings.GUANXI_RECYCLE_BIN_DAYS = 30
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    age(customer, 10.5)
    live = make_customer(org["rep_a"])
    outside = deleted_customer(make_customer, org["admin"])
    response = client_for(org["manager"]).get(BIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert customer.name in html and customer.code in html
    assert org["rep_a"].display_name in html and org["manager"].display_name in html
    assert "19 天" in html  # 30 days minus 10.5 gone, whole days
    assert "保留 30 天" in html
    assert live.name not in html and outside.name not in html
    assert _restore(customer.pk) in html
    assert _purge(customer.pk) not in html  # a manager may not purge
    admin_html = client_for(org["admin"]).get(BIN).content.decode()
    assert _purge(customer.pk) in admin_html and outside.name in admin_html


def test_bin_search_and_htmx_table(org, make_customer, client_for):
    wanted = deleted_customer(make_customer, org["admin"], name="回收站搜索目标公司")
    other = deleted_customer(make_customer, org["admin"])
    response = client_for(org["admin"]).get(
        BIN, {"q": "搜索目标"}, headers={"HX-Request": "true", "HX-Target": "recycle-table"}
    )
    html = response.content.decode()
    assert wanted.name in html and other.name not in html
    assert "<html" not in html  # only the table
    assert "HX-Request" in response["Vary"]


def test_bin_forbidden_without_delete_permission(org, make_customer, client_for):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["admin"])
    client = client_for(org["rep_a"])
    assert client.get(BIN).status_code == 403
    assert client.get(_restore(customer.pk)).status_code == 403
    assert client.post(_restore(customer.pk)).status_code == 403
    assert client.post(_purge(customer.pk), {"reason": "清理"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    denied = AuditEntry.objects.filter(actor=org["rep_a"], result="denied")
    assert set(denied.values_list("action", flat=True)) == {"customer.restore", "customer.purge"}


def test_anonymous_is_sent_to_login(client):
    response = client.get(BIN)
    assert response.status_code == 302 and "login" in response["Location"]


def test_restore_asks_then_restores(org, make_customer, client_for):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    client = client_for(org["manager"])
    confirm = client.get(_restore(customer.pk))
    assert confirm.status_code == 200
    assert "确定要从回收站恢复客户" in confirm.content.decode()
    response = client.post(_restore(customer.pk), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == BIN
    assert f"客户“{customer.name}”已恢复" in html
    customer.refresh_from_db()
    assert customer.deleted_at is None and customer.status == "not_cooperating"
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="customer.restore", result="success").count() == 1


def test_restore_refused_when_the_name_is_taken(org, make_customer, client_for):
    customer = deleted_customer(make_customer, org["admin"], name="页面重名公司")
    make_customer(org["admin"], name="页面重名公司")
    response = client_for(org["admin"]).post(_restore(customer.pk), follow=True)
    html = response.content.decode()
    assert "ERR-012" in html and "页面重名公司" in html
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_out_of_scope_and_live_customers_are_404(org, make_customer, client_for):
    rep = rep_who_may_delete(org["team_a"])
    others = deleted_customer(make_customer, org["rep_b"], deleter=org["admin"])
    live = make_customer(rep)
    client = client_for(rep)
    assert others.name not in client.get(BIN).content.decode()
    assert client.get(_restore(others.pk)).status_code == 404
    assert client.post(_restore(others.pk)).status_code == 404
    assert client.get(_restore(live.pk)).status_code == 404
    assert Customer.objects.get(pk=others.pk).deleted_at is not None


def test_purge_needs_a_reason_then_deletes_for_good(org, make_customer, client_for):
    customer = deleted_customer(make_customer, org["admin"])
    client = client_for(org["data_admin"])
    form = client.get(_purge(customer.pk))
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    blank = client.post(_purge(customer.pk), {"reason": "  "})
    assert blank.status_code == 422
    assert "请填写彻底删除的原因" in blank.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()
    response = client.post(_purge(customer.pk), {"reason": "客户申请注销"}, follow=True)
    assert response.redirect_chain[-1][0] == BIN
    assert f"（{customer.code}）已彻底删除" in response.content.decode()
    assert not Customer.objects.filter(pk=customer.pk).exists()
    entry = AuditEntry.objects.get(action="customer.purge", object_id=str(customer.pk))
    assert entry.params["reason"] == "客户申请注销" and entry.actor == org["data_admin"]


def test_purge_page_forbidden_for_manager(org, make_customer, client_for):
    customer = deleted_customer(make_customer, org["rep_a"], deleter=org["manager"])
    client = client_for(org["manager"])
    assert client.get(_purge(customer.pk)).status_code == 403
    assert client.post(_purge(customer.pk), {"reason": "清理"}).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()
