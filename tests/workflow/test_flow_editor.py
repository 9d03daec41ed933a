"""The approval flow editor: steps replaced in order, validated, audited, and used by the
engine for the next request; only flow administrators may edit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from guanxi.accounts.models import Role
from guanxi.audit.models import AuditEntry
from guanxi.core.errors import PermissionDenied
from guanxi.workflow.flow_services import flow_update
from guanxi.workflow.models import ApprovalFlow, ApprovalRequest, ApprovalTask
from tests.conftest import customer_data

pytestmark = pytest.mark.django_db

URL = "/approvals/flows/"


def new_customer_flow() -> ApprovalFlow:
    return ApprovalFlow.objects.get(object_type="customer", action="create")


def test_flow_update_replaces_steps_and_is_audited(org):
    flow = new_customer_flow()
    manager_role = Role.objects.get(code="sales_manager")
    flow_update(
        actor=org["admin"],
        flow=flow,
        name="新客户两级审核",
        description="",
        enabled=True,
        steps=[
            {"name": "经理审核", "approver_kind": "role", "role_ids": [manager_role.pk]},
            {
                "name": "企业客户由管理员复核",
                "approver_kind": "users",
                "user_ids": [org["admin"].pk],
                "condition": [{"field": "customer_type", "op": "eq", "value": "enterprise"}],
            },
        ],
    )
    steps = list(flow.steps.order_by("order"))
    assert [(s.order, s.name, s.approver_kind) for s in steps] == [
        (1, "经理审核", "role"),
        (2, "企业客户由管理员复核", "users"),
    ]
    assert list(steps[0].roles.all()) == [manager_role]
    assert steps[1].condition == [{"field": "customer_type", "op": "eq", "value": "enterprise"}]
    entry = AuditEntry.objects.get(action="approval_flow.update")
    assert entry.changes["name"][1] == "新客户两级审核"
    assert [s["name"] for s in entry.changes["steps"][1]] == ["经理审核", "企业客户由管理员复核"]


def test_edited_flow_drives_the_next_request(org):
    from guanxi.customers import services

    flow = new_customer_flow()
    flow_update(
        actor=org["admin"],
        flow=flow,
        name=flow.name,
        description="",
        enabled=True,
        steps=[{"name": "指定人审核", "approver_kind": "users", "user_ids": [org["finance"].pk]}],
    )
    customer = services.customer_create(actor=org["rep_a"], data=customer_data())
    request = ApprovalRequest.objects.get(object_type="customer", object_id=customer.pk)
    assert list(
        ApprovalTask.objects.filter(request=request, is_open=True).values_list(
            "approver_id", flat=True
        )
    ) == [org["finance"].pk]


def test_flow_update_validates_steps(org):
    flow = new_customer_flow()
    cases = [
        [{"name": "", "approver_kind": "role", "role_ids": [1]}],
        [{"name": "角色审批", "approver_kind": "role", "role_ids": []}],
        [{"name": "指定人", "approver_kind": "users", "user_ids": []}],
        [{"name": "x", "approver_kind": "robot"}],
        [{"name": "x", "approver_kind": "manager", "condition": [{"field": "a", "op": "zz"}]}],
        [],  # an enabled flow needs a step
    ]
    for steps in cases:
        with pytest.raises(ValidationError):
            flow_update(
                actor=org["admin"], flow=flow, name="n", description="", enabled=True, steps=steps
            )
    assert flow.steps.count() == 1  # the seeded step is untouched
    flow_update(actor=org["admin"], flow=flow, name="n", description="", enabled=False, steps=[])
    flow.refresh_from_db()
    assert flow.enabled is False and flow.steps.count() == 0


def test_only_flow_administrators_edit(org, client_for):
    flow = new_customer_flow()
    with pytest.raises(PermissionDenied):
        flow_update(
            actor=org["data_admin"], flow=flow, name="x", description="", enabled=True, steps=[]
        )
    assert client_for(org["data_admin"]).get(URL).status_code == 403
    assert client_for(org["data_admin"]).post(f"{URL}{flow.pk}/", {"name": "x"}).status_code == 403
    assert AuditEntry.objects.filter(action="approval_flow.update", result="denied").exists()


def test_editor_pages(org, client_for):
    flow = new_customer_flow()
    client = client_for(org["admin"])
    listing = client.get(URL)
    assert listing.status_code == 200 and flow.name in listing.content.decode()
    page = client.get(f"{URL}{flow.pk}/")
    assert page.status_code == 200 and page.content.decode().count('data-testid="step"') == 2
    role = Role.objects.get(code="sales_manager")
    response = client.post(
        f"{URL}{flow.pk}/",
        {
            "name": "新客户审核（改）",
            "enabled": "1",
            # the existing step moved second, a new one first, through the order boxes
            "step-1-order": "2",
            "step-1-name": "管理员审核",
            "step-1-approver_kind": "role",
            "step-1-roles": [str(Role.objects.get(code="admin").pk)],
            "step-2-order": "1",
            "step-2-name": "经理初审",
            "step-2-approver_kind": "role",
            "step-2-roles": [str(role.pk)],
            "step-2-cond_field": "customer_type",
            "step-2-cond_op": "eq",
            "step-2-cond_value": "enterprise",
        },
    )
    assert response.status_code == 302
    names = list(flow.steps.order_by("order").values_list("name", flat=True))
    assert names == ["经理初审", "管理员审核"]
    bad = client.post(
        f"{URL}{flow.pk}/",
        {"name": "x", "enabled": "1", "step-1-name": "空角色", "step-1-approver_kind": "role"},
    )
    assert bad.status_code == 422 and "请选择至少一个角色" in bad.content.decode()
    assert client.get(f"{URL}999999/").status_code == 404
