"""Full validation and normalisation of customer input — the one place the rules live.

Forms and API serializers only check the shape; services call ``clean_customer_input``.
Errors name the field and the rule, in the user's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.core import regions, validators
from guanxi.core.dictionaries import resolve_dictionary_value
from guanxi.core.field_errors import FieldErrors
from guanxi.customers.choices import CustomerStatus, CustomerType

MSG_REQUIRED = _("此项为必填项")
MSG_NAME_TOO_LONG = _("客户名称不能超过128个字符")
MSG_CONTACT_REQUIRED = _("请填写手机号或固定电话中的至少一项")
MSG_BAD_CHOICE = _("“%(value)s”不是有效的选项")
MSG_USCC_FOR_INDIVIDUAL = _("个人客户不填写统一社会信用代码")
MSG_ID_FOR_ENTERPRISE = _("企业客户不填写身份证号")
MSG_TOO_LONG = _("不能超过%(max)s个字符")

EDITABLE_FIELDS = (
    "name",
    "customer_type",
    "contact_name",
    "mobile",
    "phone",
    "email",
    "uscc",
    "id_number",
    "province",
    "city",
    "district",
    "address",
    "industry",
    "category",
    "source",
    "status",
    "notes",
    "tags",
    "owner_id",
)
SENSITIVE_FIELDS = ("mobile", "phone", "email", "uscc", "id_number")
# What erasure (customers.privacy) blanks on every customer; an individual's name and USCC go
# too, and so do text and date custom values.
PERSONAL_FIELDS = ("contact_name", "mobile", "phone", "email", "id_number", "address", "notes")
DICTIONARY_FIELDS = {
    "industry": "industry",
    "category": "customer_category",
    "source": "customer_source",
}
MAX_LENGTHS = {"contact_name": 64, "address": 255, "notes": 5000}

_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "mobile": validators.normalize_mobile,
    "phone": validators.normalize_landline,
    "email": validators.normalize_email,
    "uscc": validators.normalize_uscc,
    "id_number": validators.normalize_id_number,
}


def _text(value: Any) -> str:
    return validators.fold_text("" if value is None else str(value))


def clean_customer_input(
    data: Mapping[str, Any], *, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate ``data`` (full for create, partial for edit over ``current``).

    Returns the normalised values of the keys given (plus region fields when any changed).
    Raises ValidationError with a dict of field → messages.
    """
    errors = FieldErrors()
    fail = errors.add
    cleaned: dict[str, Any] = {}
    merged = dict(current or {})
    given = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}

    for field, raw in given.items():
        if field in ("tags", "owner_id"):
            cleaned[field] = raw
            continue
        value = _text(raw) if field != "notes" else str(raw or "").strip()
        if field == "name":
            if not value:
                fail(field, MSG_REQUIRED)
            elif len(value) > 128:
                fail(field, MSG_NAME_TOO_LONG)
        elif field in _NORMALIZERS and value:
            with errors.collect(field):
                value = _NORMALIZERS[field](value)
        elif field in DICTIONARY_FIELDS and value:
            code = resolve_dictionary_value(DICTIONARY_FIELDS[field], value)
            if code is None:
                fail(field, MSG_BAD_CHOICE % {"value": value})
            value = code or ""
        elif (field == "customer_type" and value not in CustomerType.values) or (
            field == "status" and value not in CustomerStatus.values
        ):
            fail(field, MSG_BAD_CHOICE % {"value": value})
        if field in MAX_LENGTHS and len(value) > MAX_LENGTHS[field]:
            fail(field, MSG_TOO_LONG % {"max": MAX_LENGTHS[field]})
        cleaned[field] = value
    merged.update(cleaned)

    if not merged.get("name") and "name" not in errors:
        fail("name", MSG_REQUIRED)
    if not merged.get("contact_name") and "contact_name" not in errors:
        fail("contact_name", MSG_REQUIRED)
    if (
        not merged.get("mobile")
        and not merged.get("phone")
        and not ("mobile" in errors or "phone" in errors)
    ):
        fail("mobile", MSG_CONTACT_REQUIRED)
    ctype = merged.get("customer_type") or CustomerType.ENTERPRISE
    if ctype == CustomerType.INDIVIDUAL and merged.get("uscc") and "uscc" in given:
        fail("uscc", MSG_USCC_FOR_INDIVIDUAL)
    if ctype == CustomerType.ENTERPRISE and merged.get("id_number") and "id_number" in given:
        fail("id_number", MSG_ID_FOR_ENTERPRISE)

    if {"province", "city", "district"} & given.keys():
        region = errors.check(
            regions.resolve_region,
            _text(merged.get("province")),
            _text(merged.get("city")),
            _text(merged.get("district")),
        )
        if region is not None:
            cleaned.update(province=region.province, city=region.city, district=region.district)

    errors.raise_if_any()
    return cleaned


def clean_lookup_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The name and contact values of ``data`` normalised as they are stored, for a duplicate
    check on its own (the check endpoint, import rows): no cross-field rules apply."""
    errors = FieldErrors()
    cleaned: dict[str, str] = {}
    for field in ("name", "mobile", "phone", "email", "uscc"):
        value = _text(data.get(field))
        if value and field in _NORMALIZERS:
            with errors.collect(field):
                value = _NORMALIZERS[field](value)
        if value:
            cleaned[field] = value
    errors.raise_if_any()
    return cleaned
