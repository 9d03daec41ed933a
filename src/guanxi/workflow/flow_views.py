"""系统设置 → 审批流程: the list of flows and the editor of one flow's steps. Thin: reads
through workflow.flow_selectors, writes through workflow.flow_services."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import NotFound
from guanxi.core.ids import parse_id
from guanxi.workflow import flow_selectors
from guanxi.workflow.conditions import OPERATORS
from guanxi.workflow.flow_services import EDIT_PERM, flow_update
from guanxi.workflow.models import ApprovalFlow, ApproverKind

MSG_SAVED = _("审批流程“%(name)s”已保存")
_STEP_KEY = re.compile(r"^step-(\d+)-name$")


def _ids(values: list[str]) -> list[int]:
    return [pk for pk in map(parse_id, values) if pk is not None]


def steps_from_post(data: Any) -> list[dict[str, Any]]:
    """The step rows of the editor in their ``order`` (blank and deleted rows dropped)."""
    rows = []
    for key in data:
        match = _STEP_KEY.match(key)
        if not match:
            continue
        n = match.group(1)
        name = data.get(f"step-{n}-name", "").strip()
        if data.get(f"step-{n}-delete") or not name:
            continue
        field = data.get(f"step-{n}-cond_field", "").strip()
        condition = (
            [
                {
                    "field": field,
                    "op": data.get(f"step-{n}-cond_op"),
                    "value": data.get(f"step-{n}-cond_value", ""),
                }
            ]
            if field
            else []
        )
        try:
            order = float(data.get(f"step-{n}-order") or n)
        except ValueError:
            order = float(n)
        rows.append(
            (
                order,
                {
                    "name": name,
                    "approver_kind": data.get(f"step-{n}-approver_kind"),
                    "role_ids": _ids(data.getlist(f"step-{n}-roles")),
                    "user_ids": _ids(data.getlist(f"step-{n}-users")),
                    "condition": condition,
                },
            )
        )
    return [row for _order, row in sorted(rows, key=lambda r: r[0])]


def _editor_row(step: dict[str, Any]) -> dict[str, Any]:
    """A step (as the service takes it) as the editor shows it: its one condition test flat."""
    test = (step["condition"] or [{}])[0]
    return {
        **step,
        "cond_field": test.get("field", ""),
        "cond_op": test.get("op", "eq"),
        "cond_value": test.get("value", ""),
    }


def _stored_steps(flow: ApprovalFlow) -> list[dict[str, Any]]:
    return [
        {
            "name": step.name,
            "approver_kind": step.approver_kind,
            "role_ids": [r.pk for r in step.roles.all()],
            "user_ids": [u.pk for u in step.users.all()],
            "condition": step.condition,
        }
        for step in flow_selectors.flow_steps(flow)
    ]


@login_required
@require_GET
def flow_list(request: HttpRequest) -> HttpResponse:
    require_page_perm(request, EDIT_PERM, "approval_flow.update")
    return render(request, "workflow/flows.html", {"flows": flow_selectors.flow_list()})


@login_required
@require_http_methods(["GET", "POST"])
def flow_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_page_perm(request, EDIT_PERM, "approval_flow.update")
    try:
        flow = flow_selectors.flow_get(pk)
    except NotFound as exc:
        raise Http404() from exc
    errors: dict[str, list[str]] = {}
    values = {"name": flow.name, "description": flow.description, "enabled": flow.enabled}
    rows = [_editor_row(step) for step in _stored_steps(flow)]
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
            "enabled": bool(request.POST.get("enabled")),
        }
        steps = steps_from_post(request.POST)
        try:
            flow_update(
                actor=request.user,
                flow=flow,
                steps=steps,
                meta=RequestMeta.from_request(request),
                **values,
            )
        except ValidationError as exc:
            errors = exc.message_dict
            rows = [_editor_row(step) for step in steps]
        else:
            messages.success(request, MSG_SAVED % {"name": values["name"]})
            return redirect("approvals:flows")
    context = {
        "flow": flow,
        "values": values,
        "rows": [*rows, {"approver_kind": ApproverKind.ROLE, "cond_op": "eq"}],  # + a blank row
        "errors": errors,
        "kinds": ApproverKind.choices,
        "operators": OPERATORS,
        "roles": flow_selectors.role_choices(),
        "users": flow_selectors.user_choices(),
    }
    return render(request, "workflow/flow_edit.html", context, status=422 if errors else 200)
