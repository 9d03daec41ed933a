"""Every write to tags (标签) and manual tagging: permission, validation, transaction, audit.

Manual tagging (``tags_apply``) only adds and removes manual rows (``rule`` empty) on
customers inside the actor's WRITE scope; rule-set rows belong to customers.tag_rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions, register_object_types
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import validators
from guanxi.core.dictionaries import resolve_dictionary_value
from guanxi.core.errors import DeleteRefused
from guanxi.core.field_errors import FieldErrors
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer, CustomerTag, Tag, TagRule
from guanxi.customers.signals import customer_data_changed

MSG_REQUIRED = _("此项为必填项")
MSG_NAME_TOO_LONG = _("标签名称不能超过32个字符")
MSG_NAME_TAKEN = _("标签“%(name)s”已存在")
MSG_BAD_COLOR = _("颜色须为 #rrggbb 格式，如 #0d6efd")
MSG_BAD_TYPE = _("“%(value)s”不是有效的标签类型")
MSG_HAS_RULES = _("标签“%(name)s”被标签规则使用，请先删除或修改这些规则")
MSG_NO_CUSTOMERS = _("请选择客户")
MSG_TOO_MANY = _("一次最多处理%(max)s个客户")
MSG_NO_TAGS = _("请选择要添加或移除的标签")
MSG_UNKNOWN_TAGS = _("标签不存在")
MAX_BATCH = 500
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")

register_actions(
    {
        "tag.create": _("新建标签"),
        "tag.update": _("编辑标签"),
        "tag.delete": _("删除标签"),
        "customer.tags_apply": _("批量打标签"),
    }
)
register_object_types({"tag": _("标签")})


def clean_tag_input(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated tag fields (all on create, the given ones on edit); field errors at once."""
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if creating or "name" in data:
        name = validators.fold_text(str(data.get("name") or "")).strip()
        if not name:
            errors.add("name", MSG_REQUIRED)
        elif len(name) > 32:
            errors.add("name", MSG_NAME_TOO_LONG)
        cleaned["name"] = name
    if "color" in data or creating:
        color = str(data.get("color") or "#0d6efd").strip()
        if not _COLOR.fullmatch(color):
            errors.add("color", MSG_BAD_COLOR)
        cleaned["color"] = color.lower()
    if "tag_type" in data:
        raw = str(data.get("tag_type") or "").strip()
        code = resolve_dictionary_value("tag_type", raw)
        if code is None:
            errors.add("tag_type", MSG_BAD_TYPE % {"value": raw[:32]})
        cleaned["tag_type"] = code or ""
    errors.raise_if_any()
    return cleaned


def _name_free(name: str, exclude: int | None = None) -> None:
    taken = Tag.objects.filter(name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": name}]})


def _snapshot(tag: Tag) -> dict[str, Any]:
    return {"name": tag.name, "color": tag.color, "tag_type": tag.tag_type}


@audited_refusals("tag.create", target="tag")
def tag_create(*, actor: Any, data: Mapping[str, Any], meta: RequestMeta | None = None) -> Tag:
    """A new tag (name unique, colour #rrggbb, type a tag_type dictionary code)."""
    require_perm(actor, "customers.add_tag")
    cleaned = clean_tag_input(data, creating=True)
    _name_free(cleaned["name"])
    try:
        with transaction.atomic():
            tag = Tag.objects.create(**cleaned)
            audit_record(
                actor=actor, action="tag.create", obj=tag, changes={"after": cleaned}, meta=meta
            )
    except IntegrityError:
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": cleaned["name"]}]}) from None
    return tag


@audited_refusals("tag.update", target="tag")
def tag_update(
    *, actor: Any, tag: Tag, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> Tag:
    """Rename or recolour a tag; every customer carrying it shows the change."""
    require_perm(actor, "customers.change_tag")
    cleaned = clean_tag_input(data, creating=False)
    if "name" in cleaned:
        _name_free(cleaned["name"], exclude=tag.pk)
    try:
        with transaction.atomic():
            current = Tag.objects.select_for_update().get(pk=tag.pk)
            before = _snapshot(current)
            for key, value in cleaned.items():
                setattr(current, key, value)
            current.save()
            after = _snapshot(current)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changes:
                audit_record(
                    actor=actor, action="tag.update", obj=current, changes=changes, meta=meta
                )
    except IntegrityError:
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": cleaned["name"]}]}) from None
    return current


@audited_refusals("tag.delete", target="tag")
def tag_delete(*, actor: Any, tag: Tag, meta: RequestMeta | None = None) -> None:
    """Delete a tag and its links; refused while a rule uses it (the rule would go too)."""
    require_perm(actor, "customers.delete_tag")
    with transaction.atomic():
        current = Tag.objects.select_for_update().get(pk=tag.pk)
        if TagRule.objects.filter(tag=current).exists():
            raise DeleteRefused(MSG_HAS_RULES % {"name": current.name}, reason="rules")
        ids = list(
            CustomerTag.objects.filter(tag=current).values_list("customer_id", flat=True)[:1000]
        )
        count = CustomerTag.objects.filter(tag=current).count()
        audit_record(
            actor=actor,
            action="tag.delete",
            obj=current,
            changes={"before": _snapshot(current)},
            params={"customers": count, "customer_ids": ids},
            meta=meta,
        )
        current.delete()


def _tag_ids(raw: Iterable[Any] | None, field: str, errors: FieldErrors) -> list[Tag]:
    try:
        ids = {int(i) for i in (raw or [])}
    except (TypeError, ValueError):
        errors.add(field, MSG_UNKNOWN_TAGS)
        return []
    tags = list(Tag.objects.filter(pk__in=ids))
    if len(tags) != len(ids):
        errors.add(field, MSG_UNKNOWN_TAGS)
    return tags


@audited_refusals("customer.tags_apply", target="customer")
def tags_apply(
    *,
    actor: Any,
    customer_ids: Iterable[Any],
    add: Iterable[Any] = (),
    remove: Iterable[Any] = (),
    meta: RequestMeta | None = None,
) -> dict[str, Any]:
    """Add and remove manual tags on many customers at once.

    Only customers inside the actor's write scope change (the others are counted as
    ``skipped``); rule-set tags are never removed, and adding a tag a rule set makes it
    manual (it stays when the rule stops matching). One audit entry for the batch."""
    require_perm(actor, "customers.change_customer")
    errors = FieldErrors()
    try:
        ids = sorted({int(i) for i in customer_ids})
    except (TypeError, ValueError):
        ids = []
    if not ids:
        errors.add("customer_ids", MSG_NO_CUSTOMERS)
    elif len(ids) > MAX_BATCH:
        errors.add("customer_ids", MSG_TOO_MANY % {"max": MAX_BATCH})
    to_add = _tag_ids(add, "add", errors)
    to_remove = _tag_ids(remove, "remove", errors)
    if not errors and not (to_add or to_remove):
        errors.add("add", MSG_NO_TAGS)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        writable = list(
            Customer.objects.alive()
            .restrict(actor, "change")
            .filter(pk__in=ids)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        changed: set[int] = set()
        for tag in to_add:
            rows = CustomerTag.objects.filter(tag=tag, customer_id__in=writable)
            have = dict(rows.values_list("customer_id", "rule_id"))
            made_manual = [cid for cid, rule in have.items() if rule is not None]
            if made_manual:
                rows.filter(customer_id__in=made_manual).update(rule=None)
            new = [cid for cid in writable if cid not in have]
            CustomerTag.objects.bulk_create(
                [CustomerTag(customer_id=cid, tag=tag, tagged_at=now) for cid in new]
            )
            changed.update(new, made_manual)
        for tag in to_remove:
            rows = CustomerTag.objects.filter(tag=tag, customer_id__in=writable, rule__isnull=True)
            changed.update(rows.values_list("customer_id", flat=True))
            rows.delete()
        done = sorted(changed)
        if done:
            Customer.objects.filter(pk__in=done).update(
                version=F("version") + 1, updated_by=actor, updated_at=now
            )
            audit_record(
                actor=actor,
                action="customer.tags_apply",
                object_type="customer",
                object_id=str(done[0]) if len(done) == 1 else "",
                object_repr=str(_("%(n)s 个客户") % {"n": len(done)}),
                params={
                    "customer_ids": done,
                    "add": [t.name for t in to_add],
                    "remove": [t.name for t in to_remove],
                    "skipped": len(ids) - len(writable),
                },
                meta=meta,
            )
            transaction.on_commit(
                lambda: customer_data_changed.send(
                    sender=CustomerTag, customer_ids=done, reason="tags"
                )
            )
    return {"changed": done, "skipped": len(ids) - len(writable)}
