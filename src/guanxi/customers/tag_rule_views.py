"""标签规则 pages: list, create/edit with a condition editor (rows of field / op / value),
enable/disable and 立即执行. Thin: customers.tag_rule_services decides."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.audit.page_guard import require_page_perm
from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, error_text
from guanxi.customers import tag_rule_services, tag_rules
from guanxi.customers.models import Tag, TagRule

MSG_SAVED = _("规则“%(name)s”已保存并执行，命中 %(n)s 个客户")
MSG_RUN = _("规则“%(name)s”已执行：命中 %(n)s 个客户（新增 %(added)s，移除 %(removed)s）")
MSG_ENABLED = _("规则“%(name)s”已启用")
MSG_DISABLED = _("规则“%(name)s”已停用，其自动标签已移除")
EDITOR_ROWS = 3  # blank condition rows offered below the rule's own


def _rule(pk: int) -> TagRule:
    try:
        return TagRule.objects.select_related("tag").get(pk=pk)
    except TagRule.DoesNotExist as exc:
        raise Http404() from exc


def _fields() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "label": spec.label,
            "note": spec.note,
            "ops": spec.allowed_ops(),
            "choices": tag_rules.field_choices(name),
        }
        for name, spec in tag_rules.RULE_FIELDS.items()
    ]


def _shown_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if value is True:
        return "true"
    return "" if value is None or value is False else str(value)


def _label_value(field: Any, value: Any, cache: dict[str, dict[str, str]]) -> str:
    """A condition's value as the list shows it: choice codes as their labels (each field's
    choices read once per page)."""
    if field not in tag_rules.RULE_FIELDS:
        return _shown_value(value)
    if field not in cache:
        cache[field] = dict(tag_rules.field_choices(field))
    labels = cache[field]
    if isinstance(value, list):
        return "、".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), _shown_value(value)) if labels else _shown_value(value)


def _posted_conditions(request: HttpRequest) -> list[dict[str, Any]]:
    """The editor's rows (cond_field / cond_op / cond_value lists); empty rows are skipped."""
    rows = zip(
        request.POST.getlist("cond_field"),
        request.POST.getlist("cond_op"),
        request.POST.getlist("cond_value"),
        strict=False,
    )
    return [{"field": f, "op": o, "value": v.strip()} for f, o, v in rows if f or (v or "").strip()]


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    require_page_perm(request, "customers.change_tagrule", "tag_rule.view")
    rules = TagRule.objects.select_related("tag").order_by("id")
    labels = {name: spec.label for name, spec in tag_rules.RULE_FIELDS.items()}
    cache: dict[str, dict[str, str]] = {}
    items = [
        {
            "rule": r,
            "conditions": [
                {
                    "field": labels.get(c.get("field"), c.get("field")),
                    "op": tag_rules.OPS.get(c.get("op"), c.get("op")),
                    "value": _label_value(c.get("field"), c.get("value"), cache),
                }
                for c in r.conditions
            ],
        }
        for r in rules
    ]
    return render(request, "customers/tags/rules.html", {"items": items})


@login_required
@require_http_methods(["GET", "POST"])
def rule_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = _rule(pk) if pk is not None else None
    perm = "customers.change_tagrule" if rule else "customers.add_tagrule"
    action = "tag_rule.update" if rule else "tag_rule.create"
    require_page_perm(request, perm, action, target="rule")
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        data = {
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
            "tag_id": request.POST.get("tag_id", ""),
            "conditions": _posted_conditions(request),
            "enabled": request.POST.get("enabled") == "on",
        }
        meta = RequestMeta.from_request(request)
        try:
            if rule is None:
                saved = tag_rule_services.tag_rule_create(actor=request.user, data=data, meta=meta)
            else:
                saved = tag_rule_services.tag_rule_update(
                    actor=request.user, rule=rule, data=data, meta=meta
                )
            messages.success(request, MSG_SAVED % {"name": saved.name, "n": saved.last_run_count})
            return redirect("customers:tag_rule_list")
        except ValidationError as exc:
            errors, status = exc.message_dict, 422
        conditions = data["conditions"]
        values = data
    else:
        conditions = list(rule.conditions) if rule else []
        values = {
            "name": rule.name if rule else "",
            "description": rule.description if rule else "",
            "tag_id": str(rule.tag_id) if rule else "",
            "enabled": rule.enabled if rule else True,
        }
    rows = [
        {"field": c.get("field"), "op": c.get("op"), "value": _shown_value(c.get("value")), "n": n}
        for n, c in enumerate(conditions)
    ]
    rows += [{"field": "", "op": "", "value": "", "n": len(rows) + k} for k in range(EDITOR_ROWS)]
    for row in rows:
        row["errors"] = [
            m for key, ms in errors.items() if key.startswith(f"conditions.{row['n']}") for m in ms
        ]
    context = {
        "rule": rule,
        "values": values,
        "rows": rows,
        "errors": errors,
        "general_errors": [*errors.get("conditions", []), *errors.get("__all__", [])],
        "fields": _fields(),
        "ops": tag_rules.OPS,
        "tags": Tag.objects.order_by("name"),
    }
    return render(request, "customers/tags/rule_form.html", context, status=status)


@login_required
@require_POST
def rule_run(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    require_page_perm(request, "customers.change_tagrule", "tag_rule.run", rule=rule)
    try:
        result = tag_rule_services.tag_rule_run(
            actor=request.user, rule=rule, meta=RequestMeta.from_request(request)
        )
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("customers:tag_rule_list")
    messages.success(
        request,
        MSG_RUN
        % {
            "name": rule.name,
            "n": result.matched,
            "added": result.added,
            "removed": result.removed,
        },
    )
    return redirect("customers:tag_rule_list")


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    require_page_perm(request, "customers.change_tagrule", "tag_rule.update", rule=rule)
    enable = request.POST.get("enabled") == "1"
    tag_rule_services.tag_rule_update(
        actor=request.user,
        rule=rule,
        data={"enabled": enable},
        meta=RequestMeta.from_request(request),
    )
    messages.success(request, (MSG_ENABLED if enable else MSG_DISABLED) % {"name": rule.name})
    return redirect("customers:tag_rule_list")
