"""Every write to tag rules (标签规则): admins define, enable/disable and run them; the
engine itself is customers.tag_rules. Saving an enabled rule re-evaluates it at once, so
the tags on screen match the rule as it now reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions, register_object_types
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import validators
from guanxi.core.field_errors import FieldErrors
from guanxi.core.permissions import require_perm
from guanxi.customers import tag_rules
from guanxi.customers.models import CustomerTag, Tag, TagRule

MSG_REQUIRED = _("此项为必填项")
MSG_NAME_TAKEN = _("规则名称“%(name)s”已存在")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_NO_TAG = _("请选择有效的标签")

register_actions(
    {
        "tag_rule.create": _("新建标签规则"),
        "tag_rule.update": _("编辑标签规则"),
        "tag_rule.run": _("执行标签规则"),
    }
)
register_object_types({"tagrule": _("标签规则")})

# The seeded rules (post_migrate, idempotent). 高价值客户 adds
# {"field": "total_order_amount", "op": "gte", "value": 100000} once orders exist.
SEED_TAGS = {"高价值客户": "#fd7e14", "流失风险": "#dc3545"}
SEED_RULES = {
    "高价值客户": (
        "合作客户且近90天跟进不少于3次（订单模块上线后加上累计订单金额 ≥ 100000）",
        [
            {"field": "status", "op": "eq", "value": "cooperating"},
            {"field": "follow_ups_90d", "op": "gte", "value": 3},
        ],
    ),
    "流失风险": (
        "合作客户且超过30天未跟进（从未跟进也算）",
        [
            {"field": "status", "op": "eq", "value": "cooperating"},
            {"field": "days_since_follow_up", "op": "gt", "value": 30},
        ],
    ),
}


def ensure_seed_rules() -> None:
    """The two default tags and rules; missing ones created, edited ones kept."""
    for name, color in SEED_TAGS.items():
        tag, _created = Tag.objects.get_or_create(
            name=name, defaults={"color": color, "tag_type": "value"}
        )
        description, conditions = SEED_RULES[name]
        TagRule.objects.get_or_create(
            name=name,
            defaults={"tag": tag, "description": description, "conditions": conditions},
        )


def clean_rule_input(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if creating or "name" in data:
        name = validators.fold_text(str(data.get("name") or "")).strip()
        if not name:
            errors.add("name", MSG_REQUIRED)
        elif len(name) > 64:
            errors.add("name", MSG_TOO_LONG % {"max": 64})
        cleaned["name"] = name
    if "description" in data:
        text = str(data.get("description") or "").strip()
        if len(text) > 255:
            errors.add("description", MSG_TOO_LONG % {"max": 255})
        cleaned["description"] = text
    if creating or "tag_id" in data:
        try:
            cleaned["tag"] = Tag.objects.get(pk=int(data.get("tag_id")))  # type: ignore[arg-type]
        except (Tag.DoesNotExist, TypeError, ValueError, OverflowError):
            errors.add("tag_id", MSG_NO_TAG)
    if creating or "conditions" in data:
        with errors.collect():
            cleaned["conditions"] = tag_rules.clean_conditions(data.get("conditions"))
    if "enabled" in data:
        cleaned["enabled"] = bool(data.get("enabled"))
    errors.raise_if_any()
    return cleaned


def _name_free(name: str, exclude: int | None = None) -> None:
    if TagRule.objects.filter(name=name).exclude(pk=exclude).exists():
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": name}]})


def _snapshot(rule: TagRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "tag": rule.tag.name,
        "conditions": rule.conditions,
        "enabled": rule.enabled,
    }


@audited_refusals("tag_rule.create", target="rule")
def tag_rule_create(
    *, actor: Any, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> TagRule:
    """A new rule; when enabled, its tags are applied right away."""
    require_perm(actor, "customers.add_tagrule")
    cleaned = clean_rule_input(data, creating=True)
    _name_free(cleaned["name"])
    try:
        with transaction.atomic():
            rule = TagRule.objects.create(**cleaned, created_by=actor)
            audit_record(
                actor=actor,
                action="tag_rule.create",
                obj=rule,
                changes={"after": _snapshot(rule)},
                meta=meta,
            )
            tag_rules.evaluate(rule)
    except IntegrityError:
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": cleaned["name"]}]}) from None
    return rule


@audited_refusals("tag_rule.update", target="rule")
def tag_rule_update(
    *, actor: Any, rule: TagRule, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> TagRule:
    """Edit, enable or disable a rule, then re-evaluate it (a disabled rule's tags go; a
    new tag takes the old one's place)."""
    require_perm(actor, "customers.change_tagrule")
    cleaned = clean_rule_input(data, creating=False)
    if "name" in cleaned:
        _name_free(cleaned["name"], exclude=rule.pk)
    try:
        with transaction.atomic():
            current = TagRule.objects.select_for_update().select_related("tag").get(pk=rule.pk)
            before = _snapshot(current)
            if "tag" in cleaned and cleaned["tag"].pk != current.tag_id:
                CustomerTag.objects.filter(rule=current).delete()
            for key, value in cleaned.items():
                setattr(current, key, value)
            current.updated_at = timezone.now()
            current.save()
            after = _snapshot(current)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changes:
                audit_record(
                    actor=actor, action="tag_rule.update", obj=current, changes=changes, meta=meta
                )
            tag_rules.evaluate(current)
    except IntegrityError:
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": cleaned["name"]}]}) from None
    return current


@audited_refusals("tag_rule.run", target="rule")
def tag_rule_run(
    *, actor: Any, rule: TagRule, meta: RequestMeta | None = None
) -> tag_rules.RunResult:
    """立即执行: evaluate the rule over every customer now; the run is audited."""
    require_perm(actor, "customers.change_tagrule")
    with transaction.atomic():
        current = TagRule.objects.select_for_update().get(pk=rule.pk)
        result = tag_rules.evaluate(current)
        audit_record(
            actor=actor,
            action="tag_rule.run",
            obj=current,
            params={"matched": result.matched, "added": result.added, "removed": result.removed},
            meta=meta,
        )
    rule.last_run_at, rule.last_run_count = current.last_run_at, current.last_run_count
    return result
