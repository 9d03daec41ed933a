"""Custom field values: the one place that turns input into stored values and stored values
into text, so the form, the API, imports, exports and the change history agree.

Stored shapes in an object's ``custom_fields`` JSON (a key is absent when the value is empty):
text and long text as strings, number as a JSON number, money as a string with two decimals
(``"1234.50"``, no float rounding), date as ``"YYYY-MM-DD"``, yes/no as a boolean, single
choice as a dictionary code and multi choice as a list of codes.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core import request_memo
from guanxi.core.dictionaries import dictionary_choices, dictionary_labels
from guanxi.core.field_errors import FieldErrors
from guanxi.core.models import CustomField, CustomFieldType
from guanxi.core.money import money_text
from guanxi.core.validators import fold_text

T = CustomFieldType
# Objects that carry a ``custom_fields`` column; later modules add theirs here.
OBJECT_TYPES: dict[str, Any] = {"customer": _("客户")}
TEXT_MAX = 200
LONG_TEXT_MAX = 5000
NUMBER_DIGITS = 15
NUMBER_PLACES = 6
MONEY_LIMIT = Decimal("1e13")
PREFIX = "custom_fields."
MEMO_KEY = "custom_fields"

MSG_REQUIRED = _("此项为必填项")
MSG_UNKNOWN = _("未知或已停用的自定义字段：%(keys)s")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_NUMBER = _("请输入数字")
MSG_NUMBER_SIZE = _("数字最多15位有效数字、6位小数")
MSG_MONEY = _("请输入金额，最多两位小数")
MSG_MONEY_SIZE = _("金额超出范围")
MSG_DATE = _("请输入有效日期，如 2026-01-31")
MSG_BOOLEAN = _("请填写“是”或“否”")
MSG_CHOICE = _("“%(value)s”不是有效的选项")
MSG_SHAPE = _("自定义字段应为“字段标识: 值”的对象")

_TRUE = {"true", "1", "yes", "y", "t", "是", "√", "on"}
_FALSE = {"false", "0", "no", "n", "f", "否", "×", "off"}
_LIST_SEPARATORS = re.compile(r"[,，、;；|\n]+")
_DATE_CN = re.compile(r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?")


def definitions(object_type: str, *, active_only: bool = True) -> list[CustomField]:
    """The fields of ``object_type`` in display order (one query per request: a list page
    builds several filtersets and each asks; core.request_memo)."""

    def read() -> list[CustomField]:
        fields = CustomField.objects.filter(object_type=object_type).select_related("dictionary")
        if active_only:
            fields = fields.filter(is_active=True)
        return list(fields.order_by("sort", "id"))

    return list(request_memo.remembered((MEMO_KEY, object_type, active_only), read))


def forget_definitions(**_: Any) -> None:
    """Connected to CustomField saves and deletes: the request that changed a field reads
    the definitions afresh."""
    request_memo.forget(MEMO_KEY)


def error_key(key: str) -> str:
    """Where a value's error is reported: ``custom_fields.<key>`` (forms map it to theirs)."""
    return PREFIX + key


class _Choices:
    """Dictionary codes and labels, read once per dictionary for a whole batch of values."""

    def __init__(self) -> None:
        self._active: dict[str, dict[str, str]] = {}

    def resolve(self, field: CustomField, value: str) -> str | None:
        code = field.dictionary.code if field.dictionary else ""
        if code not in self._active:
            self._active[code] = {}
            for item_code, label in dictionary_choices(code):
                self._active[code].setdefault(item_code, item_code)
                self._active[code].setdefault(label, item_code)
        return self._active[code].get(value)


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise InvalidOperation
    text = fold_text(str(raw)).replace(",", "").replace(" ", "").lstrip("¥￥")
    number = Decimal(text)
    if not number.is_finite():
        raise InvalidOperation
    return number


def _clean_number(raw: Any) -> int | float:
    try:
        number = _decimal(raw)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(MSG_NUMBER) from exc
    digits = number.normalize().as_tuple()
    exponent = int(digits.exponent)
    places = max(-exponent, 0)
    if places > NUMBER_PLACES or len(digits.digits) + max(exponent, 0) > NUMBER_DIGITS:
        raise ValidationError(MSG_NUMBER_SIZE)
    return int(number) if number == number.to_integral_value() else float(number)


def _clean_money(raw: Any) -> str:
    try:
        amount = _decimal(raw)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(MSG_MONEY) from exc
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(MSG_MONEY)
    if abs(amount) >= MONEY_LIMIT:
        raise ValidationError(MSG_MONEY_SIZE)
    return str(amount.quantize(Decimal("0.01")))


def _clean_date(raw: Any) -> str:
    if isinstance(raw, datetime.datetime):
        raw = raw.date()
    if isinstance(raw, datetime.date):
        day = raw
    else:
        match = _DATE_CN.fullmatch(fold_text(str(raw)))
        try:
            if not match:
                raise ValueError(raw)
            day = datetime.date(*(int(part) for part in match.groups()))
        except ValueError as exc:
            raise ValidationError(MSG_DATE) from exc
    if not 1900 <= day.year <= 2200:
        raise ValidationError(MSG_DATE)
    return day.isoformat()


def _clean_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = fold_text(str(raw)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(MSG_BOOLEAN)


def _items(raw: Any) -> list[str]:
    parts = raw if isinstance(raw, (list, tuple)) else _LIST_SEPARATORS.split(str(raw))
    return [fold_text(str(p)) for p in parts if fold_text(str(p))]


def _is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, (list, tuple)):
        return not _items(raw)
    return not isinstance(raw, bool) and str(raw).strip() == ""


def clean_value(
    field: CustomField, raw: Any, *, current: Any = None, choices: _Choices | None = None
) -> Any:
    """The stored form of ``raw`` for ``field``; None when empty. Raises ValidationError.

    A choice the record already holds stays valid after its dictionary item is deactivated,
    so saving an untouched form never fails on it."""
    if _is_empty(raw):
        return None
    kind = field.field_type
    if kind in (T.TEXT, T.LONG_TEXT):
        text = fold_text(str(raw)) if kind == T.TEXT else str(raw).strip()
        limit = TEXT_MAX if kind == T.TEXT else LONG_TEXT_MAX
        if len(text) > limit:
            raise ValidationError(MSG_TOO_LONG % {"max": limit})
        return text
    if kind == T.NUMBER:
        return _clean_number(raw)
    if kind == T.MONEY:
        return _clean_money(raw)
    if kind == T.DATE:
        return _clean_date(raw)
    if kind == T.BOOLEAN:
        return _clean_boolean(raw)
    choices = choices or _Choices()
    held = set(current if isinstance(current, list) else [current] if current else [])
    codes: list[str] = []
    for item in _items(raw) if kind == T.MULTI_CHOICE else [fold_text(str(raw))]:
        code = item if item in held else choices.resolve(field, item)
        if code is None:
            raise ValidationError(MSG_CHOICE % {"value": item})
        if code not in codes:
            codes.append(code)
    return codes if kind == T.MULTI_CHOICE else codes[0]


def clean_values(
    fields: Iterable[CustomField],
    data: Any,
    *,
    current: Mapping[str, Any] | None = None,
    creating: bool = False,
) -> dict[str, Any]:
    """The record's whole ``custom_fields`` after applying ``data`` (key → raw value; keys
    not given keep their stored values, an empty value removes one).

    Required fields are enforced for every field on create and for the fields given on an
    edit (a partial API edit need not resend them). Errors are keyed ``custom_fields.<key>``.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationError({"custom_fields": [MSG_SHAPE]})
    active = {f.key: f for f in fields if f.is_active}
    errors = FieldErrors()
    unknown = sorted(str(k) for k in data if k not in active)
    if unknown:
        errors.add("custom_fields", MSG_UNKNOWN % {"keys": "、".join(unknown)})
    result = dict(current or {})
    choices = _Choices()
    for key, raw in data.items():
        if key not in active:
            continue
        with errors.collect(error_key(key)):
            value = clean_value(active[key], raw, current=result.get(key), choices=choices)
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
    for key, field in active.items():
        missing = field.required and (creating or key in data) and key not in result
        if missing and error_key(key) not in errors:
            errors.add(error_key(key), MSG_REQUIRED)
    errors.raise_if_any()
    return result


def choice_labels(fields: Iterable[CustomField]) -> dict[str, dict[str, str]]:
    """key → {code: label} for the choice fields (one query per dictionary used)."""
    by_dictionary: dict[str, dict[str, str]] = {}
    labels = {}
    for field in fields:
        if field.is_choice and field.dictionary:
            code = field.dictionary.code
            if code not in by_dictionary:
                by_dictionary[code] = dictionary_labels(code)
            labels[field.key] = by_dictionary[code]
    return labels


def display_value(field: CustomField, value: Any, labels: Mapping[str, str] | None = None) -> str:
    """A stored value as people read it ("" when empty): labels for codes, 是/否, amounts
    with thousands separators."""
    if value in (None, "", []):
        return ""
    kind = field.field_type
    if kind == T.BOOLEAN:
        return str(_("是") if value else _("否"))
    if kind == T.MONEY:
        return money_text(value, fallback=str(value))
    if kind in (T.CHOICE, T.MULTI_CHOICE):
        codes = value if isinstance(value, list) else [value]
        return "、".join((labels or {}).get(str(c), str(c)) for c in codes)
    return str(value)


def export_value(field: CustomField, value: Any, labels: Mapping[str, str] | None = None) -> Any:
    """A stored value for a file: plain numbers and amounts (no separators), labels for
    codes, 是/否; None when empty."""
    if value in (None, "", []):
        return None
    if field.field_type == T.NUMBER:
        return value
    if field.field_type == T.MONEY:
        try:
            return Decimal(str(value))  # a number cell in a spreadsheet, exact in CSV
        except InvalidOperation:
            return str(value)
    return display_value(field, value, labels)


def is_searchable(field: CustomField) -> bool:
    """Single-line text marked searchable (long text would flood the search index)."""
    return field.is_active and field.searchable and field.field_type == T.TEXT


def search_texts(fields: Iterable[CustomField], values: Mapping[str, Any]) -> list[str]:
    """The values of searchable text fields, for the record's search tokens."""
    return [str(values[f.key]) for f in fields if is_searchable(f) and values.get(f.key)]


def detail_items(
    fields: Iterable[CustomField],
    stored: Mapping[str, Any],
    labels: Mapping[str, Mapping[str, str]],
) -> list[dict[str, Any]]:
    """What a detail page lists: every active field (empty ones too, so they can be spotted)
    and the inactive ones that still hold a value."""
    items = []
    for field in fields:
        value = stored.get(field.key)
        if not field.is_active and value in (None, "", []):
            continue
        items.append(
            {
                "key": field.key,
                "label": field.shown_label,
                "value": display_value(field, value, labels.get(field.key)),
                "long": field.field_type == T.LONG_TEXT,
                "active": field.is_active,
            }
        )
    return items
