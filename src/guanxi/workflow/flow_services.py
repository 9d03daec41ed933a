"""Editing approval flows (系统设置 → 审批流程): the flow's name, whether it runs, and its
ordered steps. Requests already under way keep the approvers of their current step; the
edited steps apply from their next step on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Role, User
from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.field_errors import FieldErrors
from guanxi.core.permissions import require_perm
from guanxi.workflow.conditions import clean_condition
from guanxi.workflow.models import ApprovalFlow, ApprovalStep, ApproverKind

EDIT_PERM = "workflow.change_approvalflow"
MSG_NO_STEPS = _("启用的流程至少需要一个审批步骤")
MSG_NO_ROLES = _("第 %(n)s 步：按角色审批时请选择至少一个角色")
MSG_NO_USERS = _("第 %(n)s 步：指定人员审批时请选择至少一名审批人")
MSG_NO_NAME = _("第 %(n)s 步：请填写步骤名称")
MSG_BAD_KIND = _("第 %(n)s 步：无效的审批人类型")

register_actions({"approval_flow.update": _("修改审批流程")})


def _describe(flow: ApprovalFlow) -> dict[str, Any]:
    """The flow as the audit log keeps it (names, not ids, so it reads without joins)."""
    return {
        "name": flow.name,
        "enabled": flow.enabled,
        "steps": [
            {
                "name": s.name,
                "approver_kind": s.approver_kind,
                "roles": sorted(r.code for r in s.roles.all()),
                "users": sorted(u.username for u in s.users.all()),
                "condition": s.condition,
            }
            for s in flow.steps.order_by("order")
        ],
    }


def _clean_steps(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    errors = FieldErrors()
    cleaned = []
    for n, raw in enumerate(steps, start=1):
        name = str(raw.get("name") or "").strip()
        kind = raw.get("approver_kind")
        roles = list(Role.objects.filter(pk__in=raw.get("role_ids") or []))
        users = list(User.objects.filter(pk__in=raw.get("user_ids") or [], is_active=True))
        if not name:
            errors.add("steps", MSG_NO_NAME % {"n": n})
        if kind not in ApproverKind.values:
            errors.add("steps", MSG_BAD_KIND % {"n": n})
        elif kind == ApproverKind.ROLE and not roles:
            errors.add("steps", MSG_NO_ROLES % {"n": n})
        elif kind == ApproverKind.USERS and not users:
            errors.add("steps", MSG_NO_USERS % {"n": n})
        with errors.collect("steps"):
            condition = clean_condition(raw.get("condition"))
            cleaned.append(
                {
                    "name": name[:100],
                    "kind": kind,
                    "roles": roles,
                    "users": users,
                    "cond": condition,
                }
            )
    errors.raise_if_any()
    return cleaned


@audited_refusals("approval_flow.update")
def flow_update(
    *,
    actor: Any,
    flow: ApprovalFlow,
    name: str,
    description: str,
    enabled: bool,
    steps: Sequence[Mapping[str, Any]],
    meta: RequestMeta | None = None,
) -> ApprovalFlow:
    """Replace a flow's settings and steps (in the given order), audited with before/after."""
    require_perm(actor, EDIT_PERM)
    if not str(name or "").strip():
        raise ValidationError({"name": [_("请填写流程名称")]})
    cleaned = _clean_steps(steps)
    if enabled and not cleaned:
        raise ValidationError({"steps": [MSG_NO_STEPS]})
    with transaction.atomic():
        flow = ApprovalFlow.objects.select_for_update().get(pk=flow.pk)
        before = _describe(flow)
        flow.name, flow.description = str(name).strip()[:100], str(description or "")[:255]
        flow.enabled, flow.updated_at = bool(enabled), timezone.now()
        flow.save()
        flow.steps.all().delete()
        for order, step in enumerate(cleaned, start=1):
            created = ApprovalStep.objects.create(
                flow=flow,
                order=order,
                name=step["name"],
                approver_kind=step["kind"],
                condition=step["cond"],
            )
            created.roles.set(step["roles"])
            created.users.set(step["users"])
        after = _describe(flow)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(
            actor=actor, action="approval_flow.update", obj=flow, changes=changes, meta=meta
        )
    return flow
