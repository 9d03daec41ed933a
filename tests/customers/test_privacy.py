"""Personal information protection: lawful bases, erasure, the retention purge list and a
data subject's copy — through the services, the pages and the API."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.core.custom_field_services import custom_field_create
from guanxi.core.errors import DomainError, ErasedRecord, PermissionDenied
from guanxi.customers import duplicates, privacy, services
from guanxi.customers.models import Consent, Customer, RetentionList
from guanxi.workflow.models import Notification

pytestmark = pytest.mark.django_db
API = "/api/v1"
LONG_AGO = timezone.now() - dt.timedelta(days=800)


def consent_data(**extra):
    return {
        "basis": "consent",
        "scope": "产品推荐短信",
        "source": "线上表单",
        "given_at": "2026-01-05T10:00",
        **extra,
    }


def idle(customer: Customer, *, status: str = "lost", when: dt.datetime = LONG_AGO) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        status=status, updated_at=when, last_follow_up_at=when
    )


# --- lawful bases ------------------------------------------------------------------------------


def test_consent_recorded_listed_and_withdrawn_through_the_pages(org, make_customer, client_for):
    customer = make_customer(org["rep_a"], contact_name="王芳")
    client = client_for(org["rep_a"])
    page = client.get(reverse("customers:consent_new", args=[customer.pk]))
    assert 'value="王芳"' in page.content.decode()  # the contact person by default
    response = client.post(
        reverse("customers:consent_new", args=[customer.pk]),
        {**consent_data(), "subject_name": "王芳", "expires_at": "2027-01-05T10:00"},
    )
    assert response.status_code == 302
    consent = Consent.objects.get(customer=customer)
    assert (consent.subject_name, consent.basis, consent.is_active) == ("王芳", "consent", True)
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "产品推荐短信" in detail and "个人同意" in detail and "有效" in detail

    withdraw = reverse("customers:consent_withdraw", args=[consent.pk])
    assert client.post(withdraw, {"reason": ""}).status_code == 422
    assert client.post(withdraw, {"reason": "客户来电要求停止推送"}).status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and not consent.is_active
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"customer.consent_record", "customer.consent_withdraw"} <= actions


def test_consent_rules_and_scope(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    with pytest.raises(ValidationError) as err:
        privacy.consent_record(
            actor=org["rep_a"],
            customer=customer,
            data=consent_data(
                basis="whatever", scope="", given_at="昨天", expires_at="2025-01-01T00:00"
            ),
        )
    assert set(err.value.message_dict) == {"basis", "scope", "given_at"}
    with pytest.raises(ValidationError) as err:
        privacy.consent_record(
            actor=org["rep_a"], customer=customer, data=consent_data(expires_at="2025-01-01")
        )
    assert set(err.value.message_dict) == {"expires_at"}
    # Another rep's customer is out of scope: 404, nothing recorded.
    url = reverse("customers:consent_new", args=[customer.pk])
    assert client_for(org["rep_b"]).post(url, consent_data()).status_code == 404
    # A service rep reads everything but may not record.
    assert client_for(org["service_rep"]).post(url, consent_data()).status_code == 403
    assert not Consent.objects.exists()


def test_consent_api(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    client = client_for(org["rep_a"])
    created = client.post(
        f"{API}/customers/{customer.pk}/consents",
        {**consent_data(), "given_at": "2026-01-05T10:00:00+08:00"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["subject_name"] == customer.contact_name and body["is_active"] is True
    listed = client.get(f"{API}/customers/{customer.pk}/consents").json()["items"]
    assert [c["id"] for c in listed] == [body["id"]]
    bad = client.post(
        f"{API}/customers/{customer.pk}/consents", {"basis": "x"}, content_type="application/json"
    )
    assert bad.status_code == 422
    withdrawn = client.post(
        f"{API}/consents/{body['id']}/withdraw", {"reason": "撤回"}, content_type="application/json"
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_reason"] == "撤回"
    again = client.post(
        f"{API}/consents/{body['id']}/withdraw", {"reason": "撤回"}, content_type="application/json"
    )
    assert again.status_code == 422
    assert (
        client_for(org["rep_b"]).get(f"{API}/customers/{customer.pk}/consents").status_code == 404
    )


# --- erasure -----------------------------------------------------------------------------------


def test_erasure_blanks_personal_data_and_keeps_the_business_record(org, make_customer):
    custom_field_create(
        actor=org["admin"],
        data={
            "object_type": "customer",
            "label": "微信",
            "key": "wechat",
            "field_type": "text",
            "searchable": True,
        },
    )
    custom_field_create(
        actor=org["admin"],
        data={"object_type": "customer", "label": "员工数", "key": "staff", "field_type": "number"},
    )
    customer = make_customer(
        org["admin"],
        name="李雷",
        customer_type="individual",
        contact_name="李雷",
        mobile="13912345678",
        email="lilei@example.com",
        id_number="11010519491231002X",
        address="海淀区中关村大街1号",
        notes="喜欢电话联系",
        custom_fields={"wechat": "lilei_wx", "staff": 3},
        status="cooperating",
        category="vip",
    )
    privacy.consent_record(actor=org["admin"], customer=customer, data=consent_data())
    with pytest.raises(PermissionDenied):
        privacy.customer_erase(actor=org["manager"], customer=customer, reason="申请")
    with pytest.raises(ValidationError):
        privacy.customer_erase(actor=org["data_admin"], customer=customer, reason=" ")
    privacy.customer_erase(actor=org["data_admin"], customer=customer, reason="本人申请删除")

    customer.refresh_from_db()
    assert customer.name == f"已匿名客户{customer.code}"
    assert customer.contact_name == privacy.ANONYMOUS
    assert (customer.mobile, customer.email, customer.id_number) == ("", "", "")
    assert (customer.mobile_bidx, customer.email_bidx, customer.id_number_bidx) == ("", "", "")
    assert (customer.address, customer.notes) == ("", "")
    assert customer.custom_fields == {"staff": 3}
    assert (customer.status, customer.category, customer.province) == (
        "cooperating",
        "vip",
        "广东省",
    )
    assert customer.erased_at is not None
    assert Consent.objects.get(customer=customer).subject_name == privacy.ANONYMOUS

    # Gone from the indexes: the old phone, the old name and the WeChat ID find nothing.
    assert duplicates.find_exact(actor=org["admin"], values={"mobile": "13912345678"}) == ([], 0)
    for query in ("李雷", "lilei_wx", "13912345678"):
        from guanxi.customers.selectors import customer_list

        page = customer_list(user=org["admin"], params={"q": query})
        assert page.items == [], query
    entry = AuditEntry.objects.get(action="customer.erase", result="success")
    assert entry.params["reason"] == "本人申请删除"
    assert "13912345678" not in json.dumps(entry.params) + json.dumps(entry.changes)
    assert "custom_fields.wechat" in entry.params["fields"]

    with pytest.raises(ErasedRecord):
        services.customer_update(
            actor=org["admin"], customer=customer, data={"notes": "x"}, version=customer.version
        )
    with pytest.raises(ValidationError):
        privacy.customer_erase(actor=org["data_admin"], customer=customer, reason="再来一次")


def test_erasure_page_and_api(org, make_customer, client_for):
    first = make_customer(org["rep_a"], mobile="13900001111")
    second = make_customer(org["rep_a"])
    admin = client_for(org["data_admin"])
    assert (
        client_for(org["manager"])
        .post(reverse("customers:erase", args=[first.pk]), {"reason": "x"})
        .status_code
        == 403
    )
    assert AuditEntry.objects.filter(action="customer.erase", result="denied").exists()
    page = admin.get(reverse("customers:erase", args=[first.pk])).content.decode()
    assert "不可撤销" in page
    response = admin.post(reverse("customers:erase", args=[first.pk]), {"reason": "本人申请"})
    assert response.status_code == 302
    detail = admin.get(reverse("customers:detail", args=[first.pk])).content.decode()
    # The history no longer shows the erased values (the contact was 张三).
    assert "张三" not in detail and "（已清除）" in detail
    assert "清除客户个人信息" in detail  # the erasure itself is listed, by its label
    history = admin.get(f"{API}/customers/{first.pk}/history").json()["items"]
    created = next(i for i in history if i["action"] == "customer.create")
    assert created["changes"]["contact_name"]["after"] == "（已清除）"
    assert (
        'data-testid="erased"' in detail
        and reverse("customers:edit", args=[first.pk]) not in detail
    )

    api = admin.post(
        f"{API}/customers/{second.pk}/erase",
        {"reason": "本人申请"},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["mobile"] == ""
    patch = admin.patch(
        f"{API}/customers/{second.pk}",
        {"version": api.json()["version"], "notes": "x"},
        content_type="application/json",
    )
    assert patch.status_code == 409 and patch.json()["code"] == "ERR-024"


# --- retention purge list -------------------------------------------------------------------


def test_retention_job_lists_only_idle_lost_customers_and_waits_for_a_decision(org, make_customer):
    due = make_customer(org["rep_a"])
    idle(due)
    recent = make_customer(org["rep_a"])
    idle(recent, when=timezone.now() - dt.timedelta(days=100))
    still_customer = make_customer(org["rep_a"])
    idle(still_customer, status="cooperating")
    purge_list = privacy.build_retention_list()
    assert [c.customer_id for c in purge_list.candidates.all()] == [due.pk]
    assert purge_list.rule == {"status": "lost", "idle_days": 730}
    notified = set(
        Notification.objects.filter(kind="retention").values_list("recipient_id", flat=True)
    )
    assert {org["admin"].pk, org["data_admin"].pk} <= notified
    assert org["rep_a"].pk not in notified
    # A pending list blocks the next one.
    assert privacy.build_retention_list() is None
    assert RetentionList.objects.count() == 1


def test_retention_command(org, make_customer, settings):
    out = io.StringIO()
    call_command("retention_review", stdout=out)
    assert "no customer" in out.getvalue()
    idle(make_customer(org["rep_a"]))
    call_command("retention_review", stdout=out)
    assert "1 customer(s) await approval" in out.getvalue()
    settings.GUANXI_RETENTION_LOST_DAYS = 0
    call_command("retention_review", stdout=out)
    assert "rule is off" in out.getvalue()


def test_approving_erases_all_but_kept_and_no_longer_due(org, make_customer, client_for):
    customers = [make_customer(org["rep_a"]) for _ in range(3)]
    for customer in customers:
        idle(customer)
    purge_list = privacy.build_retention_list()
    kept, revived, erased = customers
    # Back in use after the list was made: no longer due, so not erased.
    Customer.objects.filter(pk=revived.pk).update(updated_at=timezone.now())
    client = client_for(org["data_admin"])
    page = client.get(reverse("customers:retention_detail", args=[purge_list.pk]))
    assert page.content.decode().count('data-testid="candidate"') == 3
    response = client.post(
        reverse("customers:retention_detail", args=[purge_list.pk]),
        {"decision": "approve", "keep": [str(kept.pk)], "comment": "保留一个"},
    )
    assert response.status_code == 302
    purge_list.refresh_from_db()
    assert (purge_list.status, purge_list.erased_count) == ("approved", 1)
    states = {c.customer_id: (c.excluded, c.erased) for c in purge_list.candidates.all()}
    assert states == {kept.pk: (True, False), revived.pk: (False, False), erased.pk: (False, True)}
    assert Customer.objects.get(pk=erased.pk).erased_at is not None
    assert Customer.objects.get(pk=kept.pk).erased_at is None
    # Decided lists cannot be decided again.
    again = client_for(org["data_admin"]).post(
        f"{API}/retention-lists/{purge_list.pk}/reject",
        {"comment": "晚了"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "ERR-023"


def test_rejecting_needs_a_reason_and_erases_nothing(org, make_customer, client_for):
    customer = make_customer(org["rep_a"])
    idle(customer)
    purge_list = privacy.build_retention_list()
    client = client_for(org["data_admin"])
    bad = client.post(
        f"{API}/retention-lists/{purge_list.pk}/reject", {}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert client_for(org["manager"]).get(f"{API}/retention-lists").status_code == 403
    listed = client.get(f"{API}/retention-lists").json()["items"]
    assert [item["id"] for item in listed] == [purge_list.pk]
    done = client.post(
        f"{API}/retention-lists/{purge_list.pk}/reject",
        {"comment": "业务仍需要"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    assert Customer.objects.get(pk=customer.pk).erased_at is None
    with pytest.raises(DomainError):
        privacy.retention_approve(actor=org["data_admin"], retention_list=purge_list)
    assert privacy.build_retention_list() is not None  # a new list once the last is decided


# --- data subject's copy ---------------------------------------------------------------------


def test_subject_export_holds_everything_in_full(org, make_customer, client_for):
    customer = make_customer(org["rep_a"], mobile="13912340000", email="a@example.com")
    privacy.consent_record(actor=org["rep_a"], customer=customer, data=consent_data())
    services.customer_change_status(actor=org["rep_a"], customer=customer, status="cooperating")
    client = client_for(org["data_admin"])
    body = client.get(f"{API}/customers/{customer.pk}/personal-data?format=json")
    assert body.status_code == 200
    data = json.loads(b"".join(body.streaming_content))[0]
    record = {row["字段"]: row["值"] for row in data["customer"]}
    assert record["手机号"] == "13912340000" and record["邮箱"] == "a@example.com"
    assert data["consents"][0]["处理目的与范围"] == "产品推荐短信"
    assert [s["新状态"] for s in data["status_changes"]][:1] == ["合作客户"]
    assert {h["操作"] for h in data["history"]} >= {"新建客户", "变更客户状态"}

    xlsx = client.post(reverse("customers:personal_data", args=[customer.pk]), {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert book.sheetnames == ["客户信息", "联系人", "处理依据", "状态变更", "变更记录", "合并记录"]
    entry = AuditEntry.objects.filter(action="customer.subject_export").latest("pk")
    assert entry.params["format"] == "xlsx" and entry.params["parts"]["consents"] == 1
    # Only privacy officers may take the copy.
    denied = client_for(org["rep_a"]).get(f"{API}/customers/{customer.pk}/personal-data")
    assert denied.status_code == 403
