"""Writes to custom field definitions (系统设置 → 自定义字段), audited with their diffs.

A field's key, type, object and dictionary are fixed at creation: records store values under
the key in the type's shape, so changing them would silently change what stored values mean.
Fields are deactivated, never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.custom_fields import OBJECT_TYPES
from guanxi.core.field_errors import FieldErrors
from guanxi.core.models import CustomField, CustomFieldType, DictionaryType
from guanxi.core.permissions import require_perm
from guanxi.core.validators import fold_text

PERM = "core.change_customfield"
FIXED = ("object_type", "key", "field_type", "dictionary_id")
EDITABLE = (
    "label",
    "label_en",
    "required",
    "show_in_list",
    "filterable",
    "searchable",
    "help_text",
    "sort",
    "is_active",
)
MSG_REQUIRED = _("此项为必填项")
MSG_KEY_FORMAT = _("字段标识以小写字母开头，只含小写字母、数字和单个下划线，最多40个字符")
MSG_KEY_TAKEN = _("字段标识“%(key)s”已存在")
MSG_BAD_CHOICE = _("无效的选项")
MSG_DICTIONARY_NEEDED = _("单选和多选字段需要选择数据字典")
MSG_SEARCH_TEXT_ONLY = _("只有单行文本字段可以参与搜索")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_SORT = _("排序必须是0到99999之间的整数")
_KEY_RE = re.compile(r"[a-z](?:[a-z0-9]|_(?!_))*")

register_actions(
    {"custom_field.create": _("新增自定义字段"), "custom_field.update": _("修改自定义字段")}
)

# object type → callable(key) that refreshes search tokens of records holding ``key``.
SearchReindexer = Callable[[str], int]
SEARCH_REINDEXERS: dict[str, SearchReindexer] = {}


def register_search_reindexer(object_type: str, reindex: SearchReindexer) -> None:
    SEARCH_REINDEXERS[object_type] = reindex


def _flag(data: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = data.get(name, default)
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "on")


def _clean_editable(data: Mapping[str, Any], field_type: str, errors: FieldErrors) -> dict:
    label = fold_text(str(data.get("label") or ""))
    label_en = fold_text(str(data.get("label_en") or ""))
    help_text = fold_text(str(data.get("help_text") or ""))
    if not label:
        errors.add("label", MSG_REQUIRED)
    for name, value, limit in (("label", label, 64), ("label_en", label_en, 64)):
        if len(value) > limit:
            errors.add(name, MSG_TOO_LONG % {"max": limit})
    if len(help_text) > 200:
        errors.add("help_text", MSG_TOO_LONG % {"max": 200})
    try:
        sort = int(data.get("sort") or 0)
        if not 0 <= sort <= 99999:
            raise ValueError(sort)
    except (TypeError, ValueError):
        errors.add("sort", MSG_SORT)
        sort = 0
    searchable = _flag(data, "searchable")
    if searchable and field_type != CustomFieldType.TEXT:
        errors.add("searchable", MSG_SEARCH_TEXT_ONLY)
    return {
        "label": label,
        "label_en": label_en,
        "help_text": help_text,
        "sort": sort,
        "required": _flag(data, "required"),
        "show_in_list": _flag(data, "show_in_list"),
        "filterable": _flag(data, "filterable"),
        "searchable": searchable,
        "is_active": _flag(data, "is_active", True),
    }


def _clean_new(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    object_type = str(data.get("object_type") or "")
    key = str(data.get("key") or "").strip()
    field_type = str(data.get("field_type") or "")
    if object_type not in OBJECT_TYPES:
        errors.add("object_type", MSG_BAD_CHOICE)
    if not key:
        errors.add("key", MSG_REQUIRED)
    elif len(key) > 40 or not _KEY_RE.fullmatch(key) or key.endswith("_"):
        errors.add("key", MSG_KEY_FORMAT)
    elif CustomField.objects.filter(object_type=object_type, key=key).exists():
        errors.add("key", MSG_KEY_TAKEN % {"key": key})
    if field_type not in CustomFieldType.values:
        errors.add("field_type", MSG_BAD_CHOICE)
    dictionary = None
    if field_type in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE):
        dictionary = DictionaryType.objects.filter(pk=data.get("dictionary_id") or 0).first()
        if dictionary is None:
            errors.add("dictionary_id", MSG_DICTIONARY_NEEDED)
    cleaned = _clean_editable(data, field_type, errors)
    errors.raise_if_any()
    return {
        "object_type": object_type,
        "key": key,
        "field_type": field_type,
        "dictionary": dictionary,
        **cleaned,
    }


def values(field: CustomField) -> dict[str, Any]:
    return {f: getattr(field, f) for f in (*FIXED, *EDITABLE)}


def _reindex(field: CustomField) -> None:
    reindex = SEARCH_REINDEXERS.get(field.object_type)
    if reindex is not None:
        reindex(field.key)


@audited_refusals("custom_field.create")
def custom_field_create(
    *, actor: Any, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> CustomField:
    """Add a field; it appears in forms, detail pages and the API at once."""
    require_perm(actor, PERM)
    with transaction.atomic():
        cleaned = _clean_new(data)
        field = CustomField.objects.create(created_by=actor, **cleaned)
        audit_record(
            actor=actor,
            action="custom_field.create",
            obj=field,
            changes={f: [None, v] for f, v in values(field).items() if v not in ("", None)},
            meta=meta,
        )
    return field


@audited_refusals("custom_field.update")
def custom_field_update(
    *, actor: Any, field: CustomField, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> CustomField:
    """Change a field's label, flags, order or active state. Turning search on or off
    refreshes the search tokens of the records that hold a value for it."""
    require_perm(actor, PERM)
    with transaction.atomic():
        current = CustomField.objects.select_for_update().get(pk=field.pk)
        before = values(current)
        errors = FieldErrors()
        cleaned = _clean_editable(
            {**{f: before[f] for f in EDITABLE}, **data}, current.field_type, errors
        )
        errors.raise_if_any()
        changes = {f: [before[f], v] for f, v in cleaned.items() if before[f] != v}
        if changes:
            for name, value in cleaned.items():
                setattr(current, name, value)
            current.save(update_fields=list(cleaned))
            if "searchable" in changes or (current.searchable and "is_active" in changes):
                _reindex(current)
            audit_record(
                actor=actor,
                action="custom_field.update",
                obj=current,
                changes=changes,
                meta=meta,
            )
    return current
