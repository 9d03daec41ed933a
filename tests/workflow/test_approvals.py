"""The approval engine through the customer flows: submit, approve, reject, resubmit,
renames, multi-step flows with conditions and fallbacks, over services and real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from guanxi.audit.models import AuditEntry
from guanxi.customers import approvals as customer_approvals
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_update
from guanxi.workflow import approvals
from guanxi.workflow.approval_selectors import approval_list, latest_for, pending_count
from guanxi.workflow.models import (
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStep,
    ApprovalTask,
    ApproverKind,
    Notification,
)
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db
JSON = "application/json"


def create_pending(org: dict[str, Any], make_customer: Any, **data: Any) -> Customer:
    customer = make_customer(org["rep_a"], reviewed=False, **data)
    assert customer.review_status == "pending"
    return customer


def request_of(customer: Customer, action: str = "create") -> ApprovalRequest:
    found = latest_for("customer", customer.pk, action)
    assert found is not None
    return found


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def test_rep_creates_pending_customer_and_admins_get_the_task(org, make_customer):
    customer = create_pending(org, make_customer)
    request = request_of(customer)
    approvers = set(ApprovalTask.objects.filter(request=request).values_list("approver", flat=True))
    assert approvers == {org["admin"].pk, org["data_admin"].pk}
    assert pending_count(org["admin"]) == 1 and pending_count(org["manager"]) == 0
    assert Notification.objects.filter(recipient=org["data_admin"], kind="approval.todo").exists()
    assert AuditEntry.objects.filter(action="approval.submit", object_id=str(request.pk)).exists()


def test_approver_creates_approved_customer_without_a_request(org, make_customer):
    customer = make_customer(org["manager"], reviewed=False)
    assert customer.review_status == "approved"
    assert latest_for("customer", customer.pk, "create") is None


def test_approve_makes_the_customer_usable_and_tells_the_submitter(org, make_customer):
    customer = create_pending(org, make_customer)
    request = approvals.approval_approve(actor=org["data_admin"], approval=request_of(customer))
    assert request.status == "approved"
    assert fresh(customer).review_status == "approved"
    assert not ApprovalTask.objects.filter(request=request, is_open=True).exists()
    assert Notification.objects.filter(recipient=org["rep_a"], kind="approval.approved").exists()
    review = AuditEntry.objects.get(action="customer.review", object_id=str(customer.pk))
    assert review.changes == {"review_status": ["pending", "approved"]}


def test_pending_customer_cannot_be_edited(org, make_customer):
    customer = create_pending(org, make_customer)
    with pytest.raises(Exception) as info:
        customer_update(actor=org["rep_a"], customer=customer, data={"notes": "x"}, version=1)
    assert getattr(info.value, "code", "") == "ERR-010"
    assert fresh(customer).notes != "x"


def test_reject_needs_a_reason_then_resubmit_and_approve(org, make_customer):
    customer = create_pending(org, make_customer)
    with pytest.raises(ValidationError) as info:
        approvals.approval_reject(actor=org["admin"], approval=request_of(customer), comment=" ")
    assert "comment" in info.value.message_dict
    assert fresh(customer).review_status == "pending"

    approvals.approval_reject(actor=org["admin"], approval=request_of(customer), comment="名称不全")
    rejected = fresh(customer)
    assert rejected.review_status == "rejected"
    assert request_of(customer).comment == "名称不全"
    note = Notification.objects.get(recipient=org["rep_a"], kind="approval.rejected")
    assert note.body == "名称不全"

    fixed = customer_update(
        actor=org["rep_a"], customer=rejected, data={"notes": "已补全"}, version=rejected.version
    )
    customer_approvals.customer_resubmit(actor=org["rep_a"], customer=fixed)
    second = request_of(customer)
    assert second.status == "pending" and fresh(customer).review_status == "pending"
    approvals.approval_approve(actor=org["admin"], approval=second)
    assert fresh(customer).review_status == "approved"
    assert ApprovalRequest.objects.filter(object_id=customer.pk, action="create").count() == 2


def test_only_the_current_approvers_decide_and_only_once(org, make_customer):
    customer = create_pending(org, make_customer)
    request = request_of(customer)
    with pytest.raises(approvals.NotYourTurn):
        approvals.approval_approve(actor=org["manager"], approval=request)
    approvals.approval_approve(actor=org["admin"], approval=request)
    with pytest.raises(approvals.AlreadyDecided):
        approvals.approval_reject(actor=org["data_admin"], approval=request, comment="晚了")
    refused = AuditEntry.objects.filter(action="approval.approve", result="denied")
    assert refused.count() == 1


def test_flow_steps_in_order_with_condition_and_manager_fallback(org, make_customer):
    org["team_a"].manager = org["manager"]
    org["team_a"].save()
    flow = ApprovalFlow.objects.get(object_type="customer", action="create")
    flow.steps.all().delete()
    ApprovalStep.objects.create(flow=flow, order=1, name="经理", approver_kind=ApproverKind.MANAGER)
    finance = ApprovalStep.objects.create(
        flow=flow,
        order=2,
        name="财务",
        approver_kind=ApproverKind.USERS,
        condition=[{"field": "customer_type", "op": "eq", "value": "enterprise"}],
    )
    finance.users.set([org["finance"]])

    company = create_pending(org, make_customer)
    approvals.approval_approve(actor=org["manager"], approval=request_of(company), comment="可以")
    assert fresh(company).review_status == "pending"  # the enterprise step is next
    assert pending_count(org["finance"]) == 1
    approvals.approval_approve(actor=org["finance"], approval=request_of(company))
    assert fresh(company).review_status == "approved"

    person = create_pending(
        org, make_customer, customer_type="individual", uscc="", id_number="110101199003074477"
    )
    approvals.approval_approve(actor=org["manager"], approval=request_of(person))
    assert fresh(person).review_status == "approved"  # step 2 does not apply to persons

    org["team_a"].manager = None
    org["team_a"].save()
    orphan = create_pending(org, make_customer)  # no manager: the admins take the step
    approvers = ApprovalTask.objects.filter(request=request_of(orphan)).values_list(
        "approver", flat=True
    )
    assert org["admin"].pk in set(approvers)


def test_disabled_flow_means_no_review(org, make_customer):
    ApprovalFlow.objects.filter(action="create").update(enabled=False)
    customer = make_customer(org["rep_a"], reviewed=False)
    assert customer.review_status == "approved"


def test_rename_is_a_request_until_approved(org, make_customer):
    customer = make_customer(org["rep_a"])
    old = customer.name
    updated = customer_update(
        actor=org["rep_a"],
        customer=customer,
        data={"name": "改名后科技有限公司", "notes": "同时改备注"},
        version=1,
    )
    assert updated.pending_rename is not None
    stored = fresh(customer)
    assert stored.name == old and stored.notes == "同时改备注"
    with pytest.raises(ValidationError) as info:
        customer_update(
            actor=org["rep_a"], customer=stored, data={"name": "再改名"}, version=stored.version
        )
    assert "name" in info.value.message_dict

    approvals.approval_approve(actor=org["admin"], approval=updated.pending_rename)
    renamed = fresh(customer)
    assert renamed.name == "改名后科技有限公司" and renamed.version == stored.version + 1
    entry = AuditEntry.objects.get(action="customer.rename", object_id=str(customer.pk))
    assert entry.changes == {"name": [old, "改名后科技有限公司"]}


def test_rejected_rename_keeps_the_name(org, make_customer):
    customer = make_customer(org["rep_a"])
    updated = customer_update(
        actor=org["rep_a"], customer=customer, data={"name": "不会生效有限公司"}, version=1
    )
    approvals.approval_reject(actor=org["admin"], approval=updated.pending_rename, comment="不符")
    assert fresh(customer).name == customer.name
    assert request_of(customer, "rename").comment == "不符"


def test_rename_refused_when_the_name_was_taken_meanwhile(org, make_customer):
    customer = make_customer(org["rep_a"])
    updated = customer_update(
        actor=org["rep_a"], customer=customer, data={"name": "抢注科技有限公司"}, version=1
    )
    make_customer(org["admin"], name="抢注科技有限公司")
    with pytest.raises(Exception) as info:
        approvals.approval_approve(actor=org["admin"], approval=updated.pending_rename)
    assert getattr(info.value, "code", "") == "ERR-012"
    assert request_of(customer, "rename").status == "pending"
    assert fresh(customer).name == customer.name


def test_approver_renames_directly(org, make_customer):
    customer = make_customer(org["rep_a"])
    updated = customer_update(
        actor=org["manager"], customer=customer, data={"name": "经理直改有限公司"}, version=1
    )
    assert updated.pending_rename is None and fresh(customer).name == "经理直改有限公司"


def test_inbox_lists_and_history_filters(org, make_customer):
    create_pending(org, make_customer)
    done = create_pending(org, make_customer)
    approvals.approval_approve(actor=org["admin"], approval=request_of(done))
    assert len(approval_list(user=org["admin"], status="pending").items) == 1
    assert len(approval_list(user=org["admin"], status="approved").items) == 1
    assert len(approval_list(user=org["rep_a"], status="approved").items) == 1  # submitted
    assert approval_list(user=org["rep_b"], status="approved").items == []


# --- over HTTP ------------------------------------------------------------------------------


def test_api_create_pending_patch_409_then_approve_via_inbox(org, client_for):
    rep, admin = client_for(org["rep_a"]), client_for(org["admin"])
    created = rep.post("/api/v1/customers", customer_data(), content_type="application/json")
    assert created.status_code == 201 and created.json()["review_status"] == "pending"
    pk = created.json()["id"]
    blocked = rep.patch(
        f"/api/v1/customers/{pk}", {"notes": "x", "version": 1}, content_type="application/json"
    )
    assert blocked.status_code == 409 and blocked.json()["code"] == "ERR-010"

    inbox = admin.get("/api/v1/approvals", {"status": "pending"}).json()["items"]
    item = next(i for i in inbox if i["object_id"] == pk)
    assert item["object_type"] == "customer" and item["action"] == "create"
    assert item["submitted_by"]["id"] == org["rep_a"].pk
    assert (
        rep.post(f"/api/v1/approvals/{item['id']}/approve", {}, content_type=JSON).status_code
        == 403
    )
    missing = admin.post(
        f"/api/v1/approvals/{item['id']}/reject", {}, content_type="application/json"
    )
    assert missing.status_code == 422 and "comment" in missing.json()["errors"]
    ok = admin.post(f"/api/v1/approvals/{item['id']}/approve", {"comment": "好"}, content_type=JSON)
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = admin.post(f"/api/v1/approvals/{item['id']}/approve", {}, content_type=JSON)
    assert again.status_code == 409 and again.json()["code"] == "ERR-023"
    assert rep.get(f"/api/v1/customers/{pk}").json()["review_status"] == "approved"


def test_api_rename_answers_202_and_history_shows_both_names(org, client_for, make_customer):
    customer = make_customer(org["rep_a"])
    rep, admin = client_for(org["rep_a"]), client_for(org["admin"])
    response = rep.patch(
        f"/api/v1/customers/{customer.pk}",
        {"name": "接口改名有限公司", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert rep.get(f"/api/v1/customers/{customer.pk}").json()["name"] == customer.name
    assert (
        admin.post(
            f"/api/v1/approvals/{body['approval_id']}/approve", {}, content_type=JSON
        ).status_code
        == 200
    )
    history = rep.get(f"/api/v1/customers/{customer.pk}/history").json()["items"]
    rename = next(i for i in history if i["action"] == "customer.rename")
    assert rename["changes"]["name"] == {"before": customer.name, "after": "接口改名有限公司"}


def test_api_approval_of_others_is_not_found(org, client_for, make_customer):
    customer = create_pending(org, make_customer)
    pk = request_of(customer).pk
    assert client_for(org["rep_b"]).get(f"/api/v1/approvals/{pk}").status_code == 404
    assert client_for(org["rep_a"]).get(f"/api/v1/approvals/{pk}").status_code == 200
    assert client_for(org["rep_b"]).get("/api/v1/approvals/abc").status_code == 404


def test_purging_a_customer_withdraws_its_pending_approvals(org, make_customer):
    from guanxi.customers import recycle
    from guanxi.customers.services import customer_delete

    customer = create_pending(org, make_customer, status="not_cooperating")
    request = request_of(customer)
    assert pending_count(org["admin"]) == 1
    customer_delete(actor=org["admin"], customer=customer)
    recycle.customer_purge(actor=org["admin"], customer=customer, reason="录入错误")
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert pending_count(org["admin"]) == 0 and pending_count(org["data_admin"]) == 0
    assert AuditEntry.objects.filter(action="approval.cancel", object_id=str(request.pk)).exists()
