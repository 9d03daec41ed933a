"""Writes to picklist items (数据字典). Items are never deleted — codes are stored on records —
so "removing" an item means deactivating it; every change is audited with its diff."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import dictionaries
from guanxi.core.models import DictionaryItem, DictionaryType
from guanxi.core.permissions import require_perm
from guanxi.core.request_memo import forget
from guanxi.core.validators import fold_text

PERM = "core.change_dictionaryitem"
MSG_REQUIRED = _("此项为必填项")
MSG_CODE_FORMAT = _("编码只能包含字母、数字、下划线和短横线，最多32个字符")
MSG_CODE_TAKEN = _("编码“%(code)s”在该字典中已存在")
MSG_LABEL_TOO_LONG = _("名称不能超过64个字符")
MSG_SORT = _("排序必须是0到99999之间的整数")
_CODE_RE = re.compile(r"[A-Za-z0-9_\-]{1,32}")
FIELDS = ("code", "label", "label_en", "sort", "is_active")


def _clean(data: Mapping[str, Any], *, dict_type: DictionaryType, item_id: int | None) -> dict:
    """Normalise and check an item's fields; ValidationError maps field → messages."""
    errors: dict[str, list[Any]] = {}
    code = fold_text(str(data.get("code") or ""))
    label = fold_text(str(data.get("label") or ""))
    label_en = fold_text(str(data.get("label_en") or ""))
    if not code:
        errors["code"] = [MSG_REQUIRED]
    elif not _CODE_RE.fullmatch(code):
        errors["code"] = [MSG_CODE_FORMAT]
    elif DictionaryItem.objects.filter(dict_type=dict_type, code=code).exclude(pk=item_id).exists():
        errors["code"] = [MSG_CODE_TAKEN % {"code": code}]
    if not label:
        errors["label"] = [MSG_REQUIRED]
    for field, value in (("label", label), ("label_en", label_en)):
        if len(value) > 64:
            errors.setdefault(field, []).append(MSG_LABEL_TOO_LONG)
    try:
        sort = int(data.get("sort") or 0)
        if not 0 <= sort <= 99999:
            raise ValueError(sort)
    except (TypeError, ValueError):
        errors["sort"] = [MSG_SORT]
        sort = 0
    if errors:
        raise ValidationError(errors)
    return {
        "code": code,
        "label": label,
        "label_en": label_en,
        "sort": sort,
        "is_active": bool(data.get("is_active", True)),
    }


def _values(item: DictionaryItem) -> dict[str, Any]:
    return {f: getattr(item, f) for f in FIELDS}


@audited_refusals("dictionary.item_create")
def dictionary_item_create(
    *,
    actor: Any,
    dict_type: DictionaryType,
    data: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> DictionaryItem:
    """Add a value to a picklist; it is offered in forms and filters at once."""
    require_perm(actor, PERM)
    with transaction.atomic():
        cleaned = _clean(data, dict_type=dict_type, item_id=None)
        item = DictionaryItem.objects.create(dict_type=dict_type, **cleaned)
        forget(dictionaries.MEMO)
        audit_record(
            actor=actor,
            action="dictionary.item_create",
            obj=item,
            changes={f: [None, v] for f, v in cleaned.items()},
            params={"dict_type": dict_type.code},
            meta=meta,
        )
    return item


@audited_refusals("dictionary.item_update")
def dictionary_item_update(
    *, actor: Any, obj: DictionaryItem, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> DictionaryItem:
    """Edit the label, order or active flag of an item (its code never changes)."""
    require_perm(actor, PERM)
    with transaction.atomic():
        item = DictionaryItem.objects.select_for_update().get(pk=obj.pk)
        before = _values(item)
        # The code is what records store: it stays fixed so no record loses its label.
        cleaned = _clean(
            {**before, **data, "code": item.code}, dict_type=item.dict_type, item_id=item.pk
        )
        changes = {f: [before[f], v] for f, v in cleaned.items() if before[f] != v}
        if changes:
            for field, value in cleaned.items():
                setattr(item, field, value)
            item.save(update_fields=list(cleaned))
            forget(dictionaries.MEMO)
            audit_record(
                actor=actor,
                action="dictionary.item_update",
                obj=item,
                changes=changes,
                params={"dict_type": item.dict_type.code},
                meta=meta,
            )
    return item
