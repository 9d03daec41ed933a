"""Custom field definitions (系统设置 → 自定义字段) and the value rules every door shares."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core import custom_fields
from guanxi.core.custom_field_services import custom_field_create, custom_field_update
from guanxi.core.errors import PermissionDenied
from guanxi.core.models import CustomField, DictionaryType

pytestmark = pytest.mark.django_db
LIST = reverse("core:custom_fields")
NEW = reverse("core:custom_field_create")


def _field(kind: str, **extra) -> CustomField:
    return CustomField(object_type="customer", key=extra.pop("key", "f"), field_type=kind, **extra)


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("text", "  ＡＢＣ  公司 ", "ABC 公司"),
        ("long_text", " 第一行\n第二行 ", "第一行\n第二行"),
        ("number", "１２３", 123),
        ("number", "-1,234.5", -1234.5),
        ("number", 7, 7),
        ("money", "¥1,234.5", "1234.50"),
        ("money", 99, "99.00"),
        ("date", "2026-11-24", "2026-11-24"),
        ("date", "2026/1/5", "2026-01-05"),
        ("date", "2026年1月5日", "2026-01-05"),
        ("date", datetime.date(2026, 2, 1), "2026-02-01"),
        ("boolean", "是", True),
        ("boolean", "false", False),
        ("boolean", True, True),
        ("text", "   ", None),
        ("number", "", None),
    ],
)
def test_values_are_stored_in_one_shape_per_type(kind, raw, stored):
    assert custom_fields.clean_value(_field(kind), raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("number", "abc", "请输入数字"),
        ("number", "1.1234567", "数字最多15位有效数字、6位小数"),
        ("number", "1e20", "数字最多15位有效数字、6位小数"),
        ("number", True, "请输入数字"),
        ("money", "1.234", "请输入金额，最多两位小数"),
        ("money", "1e13", "金额超出范围"),
        ("date", "2026-02-30", "请输入有效日期，如 2026-01-31"),
        ("date", "明天", "请输入有效日期，如 2026-01-31"),
        ("boolean", "也许", "请填写“是”或“否”"),
        ("text", "字" * 201, "不能超过200个字符"),
    ],
)
def test_bad_values_are_refused_with_a_reason(kind, raw, message):
    with pytest.raises(ValidationError) as err:
        custom_fields.clean_value(_field(kind), raw)
    assert err.value.messages == [message]


def test_choices_take_codes_or_labels_and_keep_a_held_inactive_code():
    category = DictionaryType.objects.get(code="customer_category")
    single = _field("choice", dictionary=category)
    multi = _field("multi_choice", dictionary=category)
    assert custom_fields.clean_value(single, "VIP客户") == "vip"
    assert custom_fields.clean_value(single, "vip") == "vip"
    assert custom_fields.clean_value(multi, "vip，普通客户、vip") == ["vip", "normal"]
    assert custom_fields.clean_value(multi, ["key", "代理商"]) == ["key", "agent"]
    with pytest.raises(ValidationError, match="不是有效的选项"):
        custom_fields.clean_value(single, "金牌")
    category.items.filter(code="agent").update(is_active=False)
    with pytest.raises(ValidationError):
        custom_fields.clean_value(single, "agent")
    # A record that holds the code may be saved unchanged.
    assert custom_fields.clean_value(single, "agent", current="agent") == "agent"
    assert custom_fields.clean_value(multi, ["agent", "vip"], current=["agent"]) == [
        "agent",
        "vip",
    ]


def test_clean_values_merges_reports_every_error_and_enforces_required():
    fields = [
        _field("text", key="a", required=True),
        _field("number", key="b"),
        _field("text", key="old", is_active=False),
    ]
    with pytest.raises(ValidationError) as err:
        custom_fields.clean_values(fields, {"b": "x", "zzz": 1, "old": "v"}, creating=True)
    assert set(err.value.message_dict) == {
        "custom_fields",
        "custom_fields.a",
        "custom_fields.b",
    }
    assert "zzz" in err.value.message_dict["custom_fields"][0]
    stored = {"a": "x", "b": 1, "old": "kept"}
    # An edit that does not name a required field leaves it alone; clearing it is refused.
    assert custom_fields.clean_values(fields, {"b": None}, current=stored) == {
        "a": "x",
        "old": "kept",
    }
    with pytest.raises(ValidationError):
        custom_fields.clean_values(fields, {"a": ""}, current=stored)
    with pytest.raises(ValidationError):
        custom_fields.clean_values(fields, ["not", "a", "mapping"])


def test_display_and_export_values():
    category = DictionaryType.objects.get(code="customer_category")
    labels = custom_fields.choice_labels([_field("multi_choice", key="m", dictionary=category)])[
        "m"
    ]
    multi = _field("multi_choice", dictionary=category)
    assert custom_fields.display_value(multi, ["vip", "gone"], labels) == "VIP客户、gone"
    assert custom_fields.display_value(_field("money"), "1234567.50") == "1,234,567.50"
    assert custom_fields.export_value(_field("money"), "1234567.50") == Decimal("1234567.50")
    assert custom_fields.display_value(_field("boolean"), False) == "否"
    assert custom_fields.display_value(_field("text"), None) == ""


# --- definitions ---------------------------------------------------------------------------


def test_only_admins_manage_fields(org, client_for):
    for who in ("rep_a", "manager", "data_admin"):
        client = client_for(org[who])
        assert client.get(LIST).status_code == 403
        assert client.post(NEW, {"label": "x", "key": "x", "field_type": "text"}).status_code == 403
    with pytest.raises(PermissionDenied):
        custom_field_create(
            actor=org["rep_a"],
            data={"object_type": "customer", "label": "x", "key": "x", "field_type": "text"},
        )
    assert not CustomField.objects.exists()
    assert AuditEntry.objects.filter(action="custom_field.create", result="denied").exists()


def test_admin_creates_edits_and_deactivates_a_field(org, client_for):
    client = client_for(org["admin"])
    category = DictionaryType.objects.get(code="customer_category")
    response = client.post(
        NEW,
        {
            "object_type": "customer",
            "label": "合作等级",
            "label_en": "Partner level",
            "key": "partner_level",
            "field_type": "choice",
            "dictionary_id": category.pk,
            "show_in_list": "on",
            "filterable": "on",
            "is_active": "on",
            "sort": "5",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(key="partner_level")
    assert (field.dictionary, field.show_in_list, field.filterable, field.sort) == (
        category,
        True,
        True,
        5,
    )
    page = client.get(LIST).content.decode()
    assert "合作等级" in page and "partner_level" in page
    entry = AuditEntry.objects.get(action="custom_field.create")
    assert entry.changes["label"] == [None, "合作等级"]

    # Key, type and dictionary are fixed: posted values for them are ignored.
    edit = reverse("core:custom_field_edit", args=[field.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {"label": "合作级别", "key": "hacked", "field_type": "text", "is_active": "on"},
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.key, field.field_type) == ("合作级别", "partner_level", "choice")
    assert field.show_in_list is False  # unticked boxes mean "off"
    update = AuditEntry.objects.get(action="custom_field.update")
    assert update.changes["label"] == ["合作等级", "合作级别"]

    client.post(reverse("core:custom_field_toggle", args=[field.pk]))
    field.refresh_from_db()
    assert field.is_active is False
    assert custom_fields.definitions("customer") == []


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"key": "Bad-Key", "field_type": "text"}, {"key"}),
        ({"key": "a__b", "field_type": "text"}, {"key"}),
        ({"key": "trailing_", "field_type": "text"}, {"key"}),
        ({"key": "ok", "field_type": "choice"}, {"dictionary_id"}),
        ({"key": "ok", "field_type": "number", "searchable": True}, {"searchable"}),
        ({"key": "ok", "field_type": "nope"}, {"field_type"}),
        ({"key": "ok", "field_type": "text", "object_type": "planet"}, {"object_type"}),
        ({"key": "ok", "field_type": "text", "label": ""}, {"label"}),
    ],
)
def test_definition_rules(org, data, errors):
    base = {"object_type": "customer", "label": "名称"}
    with pytest.raises(ValidationError) as err:
        custom_field_create(actor=org["admin"], data={**base, **data})
    assert set(err.value.message_dict) == errors


def test_keys_are_unique_per_object(org):
    data = {"object_type": "customer", "label": "甲", "key": "level", "field_type": "text"}
    custom_field_create(actor=org["admin"], data=data)
    with pytest.raises(ValidationError) as err:
        custom_field_create(actor=org["admin"], data={**data, "label": "乙"})
    assert "已存在" in err.value.message_dict["key"][0]


def test_api_lists_active_fields_with_their_choices(org, client_for):
    category = DictionaryType.objects.get(code="customer_category")
    custom_field_create(
        actor=org["admin"],
        data={
            "object_type": "customer",
            "label": "等级",
            "key": "level",
            "field_type": "choice",
            "dictionary_id": category.pk,
            "filterable": True,
        },
    )
    old = custom_field_create(
        actor=org["admin"],
        data={"object_type": "customer", "label": "旧", "key": "old", "field_type": "text"},
    )
    custom_field_update(actor=org["admin"], field=old, data={"is_active": False})
    body = client_for(org["rep_a"]).get("/api/v1/custom-fields").json()
    assert [f["key"] for f in body["items"]] == ["level"]
    level = body["items"][0]
    assert level["field_type"] == "choice" and level["dictionary"] == "customer_category"
    assert {"code": "vip", "label": "VIP客户"} in level["choices"]
    assert level["filter_params"] == ["cf_level"]
    assert client_for(org["rep_a"]).get("/api/v1/custom-fields?object_type=x").status_code == 422
