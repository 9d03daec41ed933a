"""系统设置 → 数据字典 pages: permission (403), create/edit/deactivate, audit, validation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.models import DictionaryItem

pytestmark = pytest.mark.django_db
LIST = reverse("core:dictionaries")


def _item(code: str = "vip") -> DictionaryItem:
    return DictionaryItem.objects.get(dict_type__code="customer_category", code=code)


def test_sales_rep_gets_403_everywhere_and_nothing_changes(org, client_for):
    client = client_for(org["rep_a"])
    item = _item()
    assert client.get(LIST).status_code == 403
    assert (
        client.get(reverse("core:dictionary_item_create", args=["customer_category"])).status_code
        == 403
    )
    assert (
        client.post(
            reverse("core:dictionary_item_create", args=["customer_category"]),
            {"code": "x1", "label": "新分类"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("core:dictionary_item_edit", args=[item.pk]), {"label": "改名"}
        ).status_code
        == 403
    )
    assert client.post(reverse("core:dictionary_item_toggle", args=[item.pk])).status_code == 403
    item.refresh_from_db()
    assert (item.label, item.is_active) == ("VIP客户", True)
    assert not DictionaryItem.objects.filter(code="x1").exists()
    assert "数据字典" not in client.get(reverse("customers:list")).content.decode()


def test_admin_sees_types_and_items(org, client_for):
    client = client_for(org["admin"])
    html = client.get(LIST, {"type": "customer_category"}).content.decode()
    assert "客户分类" in html and "所属行业" in html and "VIP客户" in html
    assert "数据字典" in client.get(reverse("customers:list")).content.decode()


def test_admin_creates_item_and_it_is_audited(org, client_for):
    client = client_for(org["admin"])
    url = reverse("core:dictionary_item_create", args=["customer_category"])
    response = client.post(
        url,
        {
            "code": "gov",
            "label": "政府客户",
            "label_en": "Government",
            "sort": "9",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    item = DictionaryItem.objects.get(dict_type__code="customer_category", code="gov")
    assert (item.label, item.sort, item.is_active) == ("政府客户", 9, True)
    entry = AuditEntry.objects.get(action="dictionary.item_create")
    assert entry.actor_id == org["admin"].pk and entry.changes["label"] == [None, "政府客户"]
    assert "政府客户" in client.get(reverse("customers:create")).content.decode()


def test_create_rejects_duplicate_and_bad_code_keeping_input(org, client_for):
    client = client_for(org["data_admin"])
    url = reverse("core:dictionary_item_create", args=["customer_category"])
    html = client.post(url, {"code": "vip", "label": "重复的"}).content.decode()
    assert "编码“vip”在该字典中已存在" in html and "重复的" in html
    html = client.post(url, {"code": "有 空格", "label": ""}).content.decode()
    assert "编码只能包含字母、数字、下划线和短横线" in html and "此项为必填项" in html


def test_edit_changes_label_but_never_the_code(org, client_for):
    item = _item()
    client = client_for(org["admin"])
    url = reverse("core:dictionary_item_edit", args=[item.pk])
    assert "VIP客户" in client.get(url).content.decode()
    response = client.post(
        url,
        {"code": "hacked", "label": "尊享客户", "label_en": "VIP", "sort": "2", "is_active": "on"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.code, item.label) == ("vip", "尊享客户")
    entry = AuditEntry.objects.get(action="dictionary.item_update")
    assert entry.changes["label"] == ["VIP客户", "尊享客户"]


def test_deactivate_hides_from_forms_but_keeps_labels(org, make_customer, client_for):
    customer = make_customer(org["admin"], category="vip")
    client = client_for(org["admin"])
    item = _item()
    assert client.post(reverse("core:dictionary_item_toggle", args=[item.pk])).status_code == 302
    item.refresh_from_db()
    assert item.is_active is False
    assert '<option value="vip">' not in client.get(reverse("customers:create")).content.decode()
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "VIP客户" in detail
    client.post(reverse("core:dictionary_item_toggle", args=[item.pk]))
    item.refresh_from_db()
    assert item.is_active is True
