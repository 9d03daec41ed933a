"""Exports of the other lists: contacts (联系人), follow-up records and 我的跟进 — each with its
list's filters, within the exporter's scope, masked as the list masks, audited; and the 导出
menus on those pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.customers import contacts, follow_ups
from tests.dataio.export_support import csv_rows, download, grant, xlsx_rows, xml_root

pytestmark = pytest.mark.django_db


def _export(kind: str) -> str:
    return reverse("dataio:export", args=[kind])


def _contact(actor, customer, **data):
    return contacts.contact_create(actor=actor, customer_id=customer.pk, data=data)


def _follow_up(actor, customer, **data):
    now = timezone.now()
    values = {"method": "phone", "content": "电话沟通", "followed_at": now - dt.timedelta(days=3)}
    return follow_ups.follow_up_create(
        actor=actor, customer_id=customer.pk, data={**values, **data}
    )


def test_contacts_follow_the_list_search_scope_and_masking(org, make_customer, client_for):
    mine = make_customer(org["rep_a"], name="甲方公司")
    theirs = make_customer(org["rep_b"], name="乙方公司")
    _contact(org["rep_a"], mine, name="王小明", mobile="13800001111", title="采购经理")
    _contact(org["rep_a"], mine, name="李四", mobile="13800002222")
    _contact(org["rep_b"], theirs, name="赵六", mobile="13800003333")
    grant(org["rep_a"], "export_customer")
    rep = client_for(org["rep_a"])
    rows = csv_rows(download(rep.post(_export("contacts"), {"format": "csv"})))
    # 张三 is each customer's own contact person (made with the customer).
    assert sorted(r["姓名"] for r in rows) == ["张三", "李四", "王小明"]
    assert {r["客户"] for r in rows} == {"甲方公司"}  # not the other rep's
    wang = next(r for r in rows if r["姓名"] == "王小明")
    assert wang["客户"] == "甲方公司" and wang["职务"] == "采购经理"
    assert wang["手机号"] == "13800001111"  # the customer's owner sees it in full
    assert wang["主要联系人"] == "否" and list(rows[0])[:2] == ["姓名", "客户"]
    # The list's search box: pinyin initials.
    found = csv_rows(download(rep.post(_export("contacts"), {"format": "csv", "q": "wxm"})))
    assert [r["姓名"] for r in found] == ["王小明"]
    analyst = client_for(org["analyst"])
    records = json.loads(download(analyst.post(_export("contacts"), {"format": "json"})))
    assert len(records) == 5 and all("****" in r["mobile"] for r in records)
    assert {r["is_primary"] for r in records} == {True, False}
    entry = AuditEntry.objects.filter(action="contact.export").latest("pk")
    assert entry.actor_id == org["analyst"].pk and entry.params["rows"] == 5


def test_follow_up_records_with_their_filter_in_scope(org, make_customer, client_for):
    mine = make_customer(org["rep_a"], name="甲方公司")
    theirs = make_customer(org["rep_b"], name="乙方公司")
    _follow_up(org["rep_a"], mine, content="第一次拜访", method="visit", result="interest")
    _follow_up(org["rep_a"], mine, content="电话回访")
    _follow_up(org["rep_b"], theirs, content="别人的跟进")
    manager = client_for(org["manager"])  # department and below: both reps
    data = download(manager.post(_export("follow-ups"), {"format": "xlsx"}))
    rows = xlsx_rows(data)
    header = rows[0]
    assert header[:3] == ("跟进时间", "客户编号", "客户名称")
    contents = sorted(dict(zip(header, r, strict=True))["跟进内容"] for r in rows[1:])
    assert contents == ["别人的跟进", "电话回访", "第一次拜访"]
    visit = next(dict(zip(header, r, strict=True)) for r in rows[1:] if r[5] == "第一次拜访")
    assert visit["跟进方式"] == "拜访" and visit["跟进结果"] == "意向反馈"
    assert visit["跟进人"] == org["rep_a"].display_name
    params = {"format": "xml", "owner_id": str(org["rep_b"].pk)}
    root = xml_root(download(manager.post(_export("follow-ups"), params)))
    assert root.tag == "follow_ups"
    assert [f.findtext("content") for f in root.findall("follow_up")] == ["别人的跟进"]
    bad = manager.post(_export("follow-ups"), {"format": "csv", "owner_id": "x"})
    assert bad.status_code == 302  # the filter's error goes back with a message


def test_my_follow_ups_export_is_the_due_page(org, make_customer, client_for):
    now = timezone.now()
    due = make_customer(org["rep_a"], name="到期公司")
    later = make_customer(org["rep_a"], name="下周公司")
    _follow_up(
        org["rep_a"],
        due,
        followed_at=now - dt.timedelta(days=5),
        next_follow_up_at=now - dt.timedelta(days=2),
        next_plan="带样品上门",
    )
    _follow_up(org["rep_a"], later, next_follow_up_at=now + dt.timedelta(days=7))
    grant(org["rep_a"], "export_customer")
    rows = csv_rows(
        download(client_for(org["rep_a"]).post(_export("follow-ups-due"), {"format": "csv"}))
    )
    assert [r["客户名称"] for r in rows] == ["到期公司"]
    assert rows[0]["逾期天数"] == "2" and rows[0]["下次跟进计划"] == "带样品上门"
    assert rows[0]["最近跟进方式"] == "电话"


def test_pages_offer_their_menus_to_those_who_may_export(org, client_for):
    grant(org["rep_a"], "export_customer")
    rep = client_for(org["rep_a"])
    html = rep.get(reverse("customers:contact_list")).content.decode()
    assert f'action="{_export("contacts")}"' in html and 'data-copy-from="#contact-filter"' in html
    due = rep.get(reverse("customers:follow_up_due")).content.decode()
    assert f'action="{_export("follow-ups-due")}"' in due
    assert f'action="{_export("follow-ups")}"' in due
    assert f'name="owner_id" value="{org["rep_a"].pk}"' in due  # 我的跟进记录: their own
    plain = client_for(org["rep_b"]).get(reverse("customers:contact_list")).content.decode()
    assert _export("contacts") not in plain


def test_refusals_are_audited_and_unknown_lists_do_not_exist(org, client_for):
    rep = client_for(org["rep_b"])
    assert rep.post(_export("contacts"), {"format": "csv"}).status_code == 403
    assert AuditEntry.objects.filter(action="contact.export", result="denied").exists()
    assert rep.post(_export("secrets"), {"format": "csv"}).status_code == 404
