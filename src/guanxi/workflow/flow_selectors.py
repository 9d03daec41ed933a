"""Reads for the flow editor: flows with their steps, and who can be picked as approver."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch

from guanxi.accounts.models import Role, User
from guanxi.core.errors import NotFound
from guanxi.workflow.models import ApprovalFlow, ApprovalStep


def flow_list() -> list[ApprovalFlow]:
    return list(ApprovalFlow.objects.annotate(step_count=Count("steps")).order_by("object_type"))


def flow_get(pk: Any) -> ApprovalFlow:
    try:
        return ApprovalFlow.objects.get(pk=int(pk))
    except (ApprovalFlow.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def flow_steps(flow: ApprovalFlow) -> list[ApprovalStep]:
    return list(
        flow.steps.order_by("order").prefetch_related(
            Prefetch("roles", queryset=Role.objects.only("pk")),
            Prefetch("users", queryset=User.objects.only("pk")),
        )
    )


def role_choices() -> list[tuple[int, str]]:
    return list(Role.objects.order_by("pk").values_list("pk", "name"))


def user_choices() -> list[tuple[int, str]]:
    return [
        (u.pk, u.display_name)
        for u in User.objects.filter(is_active=True).order_by("username")[:500]
    ]
