"""Default approval flows: new customers and renames are approved by administrators and
data administrators ("默认由管理员审核"). Created when missing, never overwritten."""

from __future__ import annotations

from guanxi.workflow.models import ApprovalFlow, ApprovalStep, ApproverKind

DEFAULT_FLOWS = (
    ("customer", "create", "新客户审核", "新建客户须经审核后方可使用"),
    ("customer", "rename", "客户改名审核", "客户名称变更须经审核"),
)
DEFAULT_APPROVER_ROLES = ("admin", "data_admin")


def ensure_default_flows() -> None:
    from guanxi.accounts.models import Role

    roles = list(Role.objects.filter(code__in=DEFAULT_APPROVER_ROLES))
    for object_type, action, name, description in DEFAULT_FLOWS:
        flow, created = ApprovalFlow.objects.get_or_create(
            object_type=object_type,
            action=action,
            defaults={"name": name, "description": description},
        )
        if created:
            step = ApprovalStep.objects.create(
                flow=flow, order=1, name="默认由管理员审核", approver_kind=ApproverKind.ROLE
            )
            step.roles.set(roles)
