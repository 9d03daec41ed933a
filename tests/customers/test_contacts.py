"""Contacts (联系人): services, validation, the one-primary rule, search, masking, merge,
privacy, the bulk and demo paths, and the pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.core.crypto import blind_index
from guanxi.core.errors import ErasedRecord, NotFound, PermissionDenied, StaleVersion
from guanxi.customers import contact_selectors, contacts, merge, privacy, subject_export
from guanxi.customers.bulk import bulk_create_customers
from guanxi.customers.contact_demo import seed_demo_contacts
from guanxi.customers.models import Contact
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db


def add(actor: Any, customer: Any, **data: Any) -> Contact:
    return contacts.contact_create(
        actor=actor, customer_id=customer.pk, data={"name": "李四", **data}
    )


def live(customer: Any) -> list[Contact]:
    return list(Contact.objects.alive().filter(customer=customer))


def primaries(customer: Any) -> list[str]:
    return [c.name for c in live(customer) if c.is_primary]


# --- create, primary rules ---------------------------------------------------------------------


def test_customer_create_makes_its_primary_contact(org, make_customer):
    customer = make_customer(org["rep_a"], contact_name="王五", mobile="13812345678")
    (contact,) = live(customer)
    assert contact.is_primary and contact.name == "王五"
    assert contact.mobile == "13812345678"
    assert contact.mobile_bidx == blind_index("mobile", "13812345678")
    assert "wangwu" in contact.search_tokens.split()


def test_bulk_create_makes_primary_contacts_in_bulk(org):
    rows = [
        {**customer_data(contact_name="赵六", mobile=f"1371234567{i}"), "status": "potential"}
        for i in range(3)
    ]
    result = bulk_create_customers(rows, actor=org["admin"], owner=org["rep_a"])
    made = Contact.objects.filter(customer_id__in=result.created_ids)
    assert made.count() == 3
    assert all(c.is_primary and c.name == "赵六" for c in made)
    assert {c.mobile for c in made} == {f"1371234567{i}" for i in range(3)}
    assert made.filter(mobile_bidx=blind_index("mobile", "13712345670")).count() == 1


def test_create_normalises_encrypts_and_audits(org, make_customer):
    customer = make_customer(org["rep_a"])
    contact = add(
        org["rep_a"],
        customer,
        name=" 欧阳　娜娜 ",
        title="采购经理",
        mobile="+86 138-0013-8000",
        phone="（010）12345678",
        email="Nana@Example.COM",
        wechat="nana_2024",
        birthday="1990-03-15",
    )
    contact.refresh_from_db()
    assert contact.name == "欧阳 娜娜" and not contact.is_primary
    assert contact.mobile == "13800138000" and contact.phone == "010-12345678"
    assert contact.email == "nana@example.com" and contact.wechat == "nana_2024"
    assert contact.birthday == dt.date(1990, 3, 15) and contact.birthday_md == "03-15"
    with connection.cursor() as cur:
        cur.execute("SELECT mobile, email FROM customers_contact WHERE id = %s", [contact.pk])
        raw = cur.fetchone()
    assert "13800138000" not in raw[0] and "nana" not in raw[1]
    entry = AuditEntry.objects.get(action="contact.create", object_id=str(contact.pk))
    assert entry.object_type == "contact" and entry.result == "success"
    assert entry.changes["mobile"] == [None, "138****8000"]
    assert "13800138000" not in json.dumps(entry.changes)


def test_validation_names_every_bad_field(org, make_customer):
    customer = make_customer(org["rep_a"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        contacts.contact_create(
            actor=org["rep_a"],
            customer_id=customer.pk,
            data={
                "name": "  ",
                "mobile": "12345",
                "phone": "12345678",
                "email": "not-an-email",
                "wechat": "1x",
                "birthday": tomorrow.isoformat(),
            },
        )
    errors = caught.value.message_dict
    assert set(errors) == {"name", "mobile", "phone", "email", "wechat", "birthday"}
    assert errors["name"] == [str(contacts.MSG_REQUIRED)]
    assert errors["birthday"] == [str(contacts.MSG_BIRTHDAY_FUTURE)]
    assert len(live(customer)) == 1  # nothing half-written
    refused = AuditEntry.objects.filter(action="contact.create", result="failed")
    assert refused.count() == 1 and refused.get().object_type == "contact"


def test_bad_birthday_text_is_a_field_error(org, make_customer):
    customer = make_customer(org["rep_a"])
    with pytest.raises(ValidationError) as caught:
        add(org["rep_a"], customer, birthday="2020-13-45")
    assert caught.value.message_dict == {"birthday": [str(contacts.MSG_BAD_DATE)]}


def test_new_primary_demotes_the_previous_one(org, make_customer):
    customer = make_customer(org["rep_a"], contact_name="张三")
    first = live(customer)[0]
    second = add(org["rep_a"], customer, name="李四", is_primary=True)
    assert primaries(customer) == ["李四"]
    first.refresh_from_db()
    assert first.version == 2 and not first.is_primary
    contacts.contact_set_primary(actor=org["rep_a"], contact=first)
    assert primaries(customer) == ["张三"]
    second.refresh_from_db()
    assert not second.is_primary
    assert AuditEntry.objects.filter(action="contact.set_primary").count() == 1


def test_first_contact_becomes_primary(org, make_customer):
    customer = make_customer(org["rep_a"])
    Contact.objects.filter(customer=customer).delete()
    contact = add(org["rep_a"], customer, is_primary=False)
    assert contact.is_primary


def test_deleting_the_primary_promotes_the_oldest_other(org, make_customer):
    customer = make_customer(org["rep_a"], contact_name="张三")
    primary = live(customer)[0]
    add(org["rep_a"], customer, name="李四")
    add(org["rep_a"], customer, name="王五")
    contacts.contact_delete(actor=org["rep_a"], contact=primary)
    primary.refresh_from_db()
    assert primary.deleted_at is not None and primary.deleted_by == org["rep_a"]
    assert primaries(customer) == ["李四"]
    assert [c.name for c in live(customer)] == ["李四", "王五"]


def test_a_primary_is_not_unset_directly(org, make_customer):
    customer = make_customer(org["rep_a"])
    primary = live(customer)[0]
    with pytest.raises(ValidationError) as caught:
        contacts.contact_update(
            actor=org["rep_a"], contact=primary, data={"is_primary": False}, version=1
        )
    assert "is_primary" in caught.value.message_dict


def test_update_checks_version_and_audits_masked_diff(org, make_customer):
    customer = make_customer(org["rep_a"])
    contact = add(org["rep_a"], customer, mobile="13800138000")
    saved = contacts.contact_update(
        actor=org["rep_a"],
        contact=contact,
        data={"mobile": "13900139000", "title": "总经理"},
        version=1,
    )
    assert saved.version == 2 and saved.mobile == "13900139000"
    entry = AuditEntry.objects.get(action="contact.update")
    assert entry.changes == {"mobile": ["138****8000", "139****9000"], "title": ["", "总经理"]}
    with pytest.raises(StaleVersion):
        contacts.contact_update(
            actor=org["rep_a"], contact=contact, data={"title": "旧的"}, version=1
        )
    contact.refresh_from_db()
    assert contact.title == "总经理"


def test_writes_need_permission_and_the_customers_write_scope(org, make_customer):
    customer = make_customer(org["rep_a"])
    contact = live(customer)[0]
    with pytest.raises(PermissionDenied):
        add(org["service_rep"], customer)
    with pytest.raises(NotFound):
        add(org["rep_b"], customer)
    with pytest.raises(NotFound):
        contacts.contact_update(actor=org["rep_b"], contact=contact, data={"title": "x"}, version=1)
    with pytest.raises(NotFound):
        contacts.contact_delete(actor=org["rep_b"], contact=contact)
    add(org["manager"], customer, name="经理加的")  # the department tree reaches it
    contact.refresh_from_db()
    assert contact.deleted_at is None and contact.version == 1
    assert AuditEntry.objects.filter(action="contact.update", result="denied").count() == 1


def test_erased_customers_contacts_are_erased_and_not_edited(org, make_customer):
    customer = make_customer(org["rep_a"], contact_name="张三", mobile="13800138000")
    extra = add(
        org["rep_a"],
        customer,
        name="李四",
        mobile="13900139000",
        email="li@example.com",
        wechat="lisi_wx",
        birthday="1985-01-02",
        notes="喜欢喝茶",
    )
    privacy.customer_erase(actor=org["admin"], customer=customer, reason="本人申请删除")
    extra.refresh_from_db()
    assert extra.mobile == "" and extra.email == "" and extra.wechat == ""
    assert extra.mobile_bidx == "" and extra.birthday is None and extra.birthday_md == ""
    assert extra.notes == "" and extra.name == privacy.ANONYMOUS
    assert not Contact.objects.filter(mobile_bidx=blind_index("mobile", "13800138000")).exists()
    entry = AuditEntry.objects.get(action="customer.erase")
    assert entry.params["contacts"] == 2
    with pytest.raises(ErasedRecord):
        contacts.contact_update(actor=org["admin"], contact=extra, data={"title": "x"}, version=2)
    with pytest.raises(ErasedRecord):
        add(org["admin"], customer)


def test_subject_export_includes_contacts_in_full(org, make_customer):
    customer = make_customer(org["rep_a"], contact_name="张三", mobile="13800138000")
    add(org["rep_a"], customer, name="李四", mobile="13900139000", wechat="lisi_wx")
    data = subject_export.subject_data(customer)
    rows = data["contacts"]
    assert [r["姓名"] for r in rows] == ["张三", "李四"]
    assert rows[1]["手机号"] == "13900139000" and rows[1]["微信号"] == "lisi_wx"
    assert rows[0]["主要联系人"] == "是"


def test_merge_demotes_the_merged_primary_and_moves_contacts(org, make_customer):
    survivor = make_customer(org["admin"], contact_name="张三")
    merged = make_customer(org["admin"], contact_name="李四")
    add(org["admin"], merged, name="王五")
    record = merge.customer_merge(actor=org["admin"], survivor=survivor, merged=merged)
    assert record.moved["customers.Contact"] == 2
    assert sorted(c.name for c in live(survivor)) == ["张三", "李四", "王五"]
    assert primaries(survivor) == ["张三"]
    assert not live(merged)


# --- reads: scope, search, masking -------------------------------------------------------------


@pytest.fixture
def people(org, make_customer):
    mine = make_customer(org["rep_a"], contact_name="张三丰", mobile="13800138000")
    add(org["rep_a"], mine, name="单雄信", phone="010-12345678", email="shan@example.com")
    add(org["rep_a"], mine, name="曾国藩", title="总经理")
    other = make_customer(org["rep_b"], contact_name="李四", mobile="13900139000")
    return {"mine": mine, "other": other}


def names(user: Any, **params: Any) -> list[str]:
    page = contact_selectors.contact_list(user=user, params=params, limit=50)
    return sorted(c.name for c in page.items)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张三", ["张三丰"]),
        ("三丰", ["张三丰"]),
        ("zhangsanfeng", ["张三丰"]),
        ("sanfeng", ["张三丰"]),
        ("zsf", ["张三丰"]),
        ("zhang", ["张三丰"]),
        ("shanxiongxin", ["单雄信"]),
        ("danxiongxin", ["单雄信"]),  # every reading of a heteronym
        ("sxx", ["单雄信"]),
        ("ceng", ["曾国藩"]),
        ("zgf", ["曾国藩"]),
        ("138 0013 8000", ["张三丰"]),
        ("13800138000", ["张三丰"]),
        ("1380013", []),  # phones match exactly, never by part
        ("(010)12345678", ["单雄信"]),
        ("SHAN@example.com", ["单雄信"]),
        ("李四", []),  # out of scope
        ("13900139000", []),
    ],
)
def test_search(org, people, q, expected):
    assert names(org["rep_a"], q=q) == expected


def test_scope_and_customer_filter(org, people):
    assert names(org["rep_a"]) == ["单雄信", "张三丰", "曾国藩"]
    assert names(org["rep_b"]) == ["李四"]
    assert len(names(org["manager"])) == 4
    assert len(names(org["service_rep"])) == 4
    assert names(org["admin"], customer_id=people["other"].pk) == ["李四"]
    assert names(org["admin"], customer_id="abc") == []
    with pytest.raises(NotFound):
        contact_selectors.contact_get(user=org["rep_a"], pk=live(people["other"])[0].pk)


def test_contacts_of_deleted_contacts_and_binned_customers_are_gone(org, people):
    contact = live(people["mine"])[1]
    contacts.contact_delete(actor=org["rep_a"], contact=contact)
    assert contact.name not in names(org["rep_a"])
    from guanxi.customers.models import Customer

    Customer.objects.filter(pk=people["other"].pk).update(deleted_at=timezone.now())
    assert names(org["admin"], customer_id=people["other"].pk) == []


def test_masking_follows_the_customer(org, people):
    contact = live(people["mine"])[0]
    assert contact_selectors.contact_values(org["rep_a"], contact)["mobile"] == "13800138000"
    assert contact_selectors.contact_values(org["admin"], contact)["mobile"] == "13800138000"
    shown = contact_selectors.contact_values(org["service_rep"], contact)
    assert shown["mobile"] == "138****8000"
    other = live(people["mine"])[1]
    shown = contact_selectors.contact_values(org["service_rep"], other)
    assert shown["phone"] == "010-****5678" and shown["email"] == "s***n@example.com"


def test_demo_contacts_are_valid_and_bulk(org, make_customer):
    ids = [make_customer(org["admin"]).pk for _ in range(10)]
    made = seed_demo_contacts(ids, actor_id=org["admin"].pk, share=1.0)
    extra = Contact.objects.filter(customer_id__in=ids, is_primary=False)
    assert made == extra.count() and 10 <= made <= 30
    for contact in extra:
        contacts.clean_contact_input(
            {
                "name": contact.name,
                "mobile": contact.mobile,
                "email": contact.email,
                "wechat": contact.wechat,
                "birthday": contact.birthday,
            },
            creating=True,
        )
        assert contact.search_tokens and contact.mobile_bidx


# --- pages ---------------------------------------------------------------------------------------


def test_section_lists_primary_first_with_masking(org, people, client_for):
    url = reverse("customers:contact_section", args=[people["mine"].pk])
    html = client_for(org["rep_a"]).get(url).content.decode()
    assert html.index("张三丰") < html.index("单雄信")
    assert "13800138000" in html and "设为主要联系人" in html and "新增联系人" in html
    html = client_for(org["service_rep"]).get(url).content.decode()
    assert "138****8000" in html and "13800138000" not in html
    assert "新增联系人" not in html and "设为主要联系人" not in html
    assert client_for(org["rep_b"]).get(url).status_code == 404
    detail = client_for(org["rep_a"]).get(reverse("customers:detail", args=[people["mine"].pk]))
    assert url in detail.content.decode()


def test_create_page_keeps_input_and_shows_errors(org, people, client_for):
    client = client_for(org["rep_a"])
    url = reverse("customers:contact_create", args=[people["mine"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "新同事", "mobile": "123", "title": "助理"})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'value="新同事"' in html and 'value="123"' in html
    assert 'data-field-error="mobile"' in html
    response = client.post(url, {"name": "新同事", "mobile": "13700137000", "is_primary": "on"})
    assert response.status_code == 302 and response["Location"].endswith("#contacts")
    assert primaries(people["mine"]) == ["新同事"]
    assert client_for(org["rep_b"]).get(url).status_code == 404
    assert client_for(org["service_rep"]).get(url).status_code == 403


def test_edit_page_saves_and_reports_conflicts(org, people, client_for):
    contact = next(c for c in live(people["mine"]) if c.name == "曾国藩")
    client = client_for(org["rep_a"])
    url = reverse("customers:contact_edit", args=[contact.pk])
    assert "总经理" in client.get(url).content.decode()
    response = client.post(url, {"name": "曾国藩", "title": "董事长", "version": 1})
    assert response.status_code == 302
    response = client.post(url, {"name": "曾国藩", "title": "旧标题", "version": 1})
    html = response.content.decode()
    assert response.status_code == 422 and "ERR-007" in html and 'value="旧标题"' in html
    contact.refresh_from_db()
    assert contact.title == "董事长"


def test_hidden_values_are_kept_when_left_blank(org, people):
    """A user who sees masked values gets empty boxes; leaving one empty keeps the value."""
    from guanxi.customers.contact_views import ContactForm

    contact = live(people["mine"])[0]
    form = ContactForm({"name": "张三丰", "mobile": "", "title": "顾问"}, hidden_sensitive=True)
    assert form.is_valid()
    data = form.service_data(editing=True)
    assert "mobile" not in data and "is_primary" not in data
    contacts.contact_update(actor=org["rep_a"], contact=contact, data=data, version=1)
    contact.refresh_from_db()
    assert contact.mobile == "13800138000" and contact.title == "顾问"


def test_delete_and_set_primary_pages(org, people, client_for):
    client = client_for(org["rep_a"])
    second = live(people["mine"])[1]
    response = client.post(reverse("customers:contact_set_primary", args=[second.pk]))
    assert response.status_code == 302 and primaries(people["mine"]) == ["单雄信"]
    url = reverse("customers:contact_delete", args=[second.pk])
    assert "确认删除" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert primaries(people["mine"]) == ["张三丰"]
    assert client_for(org["rep_b"]).post(url).status_code == 404


def test_list_page_searches_and_links_customers(org, people, client_for):
    client = client_for(org["rep_a"])
    url = reverse("customers:contact_list")
    html = client.get(url, {"q": "zsf"}).content.decode()
    assert "张三丰" in html and "单雄信" not in html
    assert reverse("customers:detail", args=[people["mine"].pk]) in html
    partial = client.get(url, {"q": "sxx"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contact-table")
    assert "单雄信" in partial.content.decode() and "<html" not in partial.content.decode()
    assert "李四" not in client.get(url).content.decode()
    no_role = org["admin"].__class__.objects.create_user(username="nobody", password="x")
    assert client_for(no_role).get(url).status_code == 403


def test_list_page_query_count_does_not_grow(org, make_customer, client_for):
    client = client_for(org["admin"])
    url = reverse("customers:contact_list")
    for _ in range(3):
        make_customer(org["rep_a"])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(30):
        make_customer([org["rep_a"], org["rep_b"]][i % 2])
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count("<tr>") == 1 + 33  # the header row and one row per contact
    assert len(many.captured_queries) == len(few.captured_queries)
    section = reverse("customers:contact_section", args=[make_customer(org["rep_a"]).pk])
    client.get(section)
    with CaptureQueriesContext(connection) as one:
        client.get(section)
    customer = make_customer(org["rep_a"])
    for i in range(8):
        add(org["rep_a"], customer, name=f"同事{i}")
    section = reverse("customers:contact_section", args=[customer.pk])
    with CaptureQueriesContext(connection) as nine:
        client.get(section)
    assert len(nine.captured_queries) == len(one.captured_queries)
