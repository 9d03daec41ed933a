"""What a pivot may group by and add up: an allow-list per source, never a field name from input.

Each dimension knows the ORM expression it groups by, how its stored values become keys and
labels, and which list filter parameters select one of its values (the drill-down), so a cell
links to exactly the records it counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import DecimalField, F
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncMonth, TruncQuarter, TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.custom_fields import definitions
from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.models import CustomFieldType
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus
from guanxi.customers.filters import BLANK
from guanxi.customers.follow_ups import METHOD_DICT, RESULT_DICT
from guanxi.customers.models import Customer
from guanxi.customers.validation import DICTIONARY_FIELDS

BLANK_LABEL = _("未填写")
CUSTOMERS = "customers"
FOLLOW_UPS = "follow_ups"
SOURCES = {CUSTOMERS: _("客户"), FOLLOW_UPS: _("跟进记录")}
NUMERIC_TYPES = (CustomFieldType.NUMBER, CustomFieldType.MONEY)
CUSTOM_PREFIX = "cf_"


@dataclass(frozen=True)
class Dimension:
    """One way to split records into rows or columns.

    ``paths`` are the grouped ORM expressions (several for 省份/城市); ``to_key`` turns the
    grouped values into the bucket key; ``to_filter`` turns a key into list parameters (given
    the page's own parameters, so date buckets stay inside a date range the user chose)."""

    name: str
    label: Any
    paths: tuple[Any, ...]
    to_filter: Callable[[str, Mapping[str, Any]], dict[str, str]]
    labels: Callable[[list[str]], dict[str, str]]
    to_key: Callable[[tuple[Any, ...]], str] = field(
        default=lambda values: "" if values[0] is None else str(values[0])
    )
    chronological: bool = False
    multi_valued: bool = False  # a record can fall into several buckets (tags)


def _choices(choices: Iterable[tuple[Any, Any]]) -> Callable[[list[str]], dict[str, str]]:
    return lambda keys: {str(k): str(v) for k, v in choices}


def _dictionary(code: str) -> Callable[[list[str]], dict[str, str]]:
    return lambda keys: dictionary_labels(code)


def _user_names(keys: list[str]) -> dict[str, str]:
    from guanxi.accounts.models import User

    users = User.objects.filter(pk__in=[int(k) for k in keys if k]).only("id", "name", "username")
    return {str(u.pk): u.display_name for u in users}


def _department_names(keys: list[str]) -> dict[str, str]:
    from guanxi.accounts.models import Department

    rows = Department.objects.filter(pk__in=[int(k) for k in keys if k])
    return {str(pk): name for pk, name in rows.values_list("pk", "name")}


def _as_is(keys: list[str]) -> dict[str, str]:
    return {k: k for k in keys}


def _exact(param: str, blank: bool = True) -> Callable[[str, Mapping[str, Any]], dict[str, str]]:
    def to_filter(key: str, params: Mapping[str, Any]) -> dict[str, str]:
        return {param: key if key or not blank else BLANK}

    return to_filter


# --- places ------------------------------------------------------------------------------


def _city_key(values: tuple[Any, ...]) -> str:
    province, city = (v or "" for v in values)
    return f"{province}/{city}" if province or city else ""


def _city_filter(key: str, params: Mapping[str, Any]) -> dict[str, str]:
    province, _sep, city = key.partition("/")
    return {"province": province or BLANK, "city": city or BLANK}


def _city_labels(keys: list[str]) -> dict[str, str]:
    out = {}
    for key in keys:
        province, _sep, city = key.partition("/")
        out[key] = f"{province or BLANK_LABEL} {city or BLANK_LABEL}"
    return out


# --- calendar buckets (local dates) -------------------------------------------------------


def _local_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def _month_key(values: tuple[Any, ...]) -> str:
    return _local_date(values[0]).strftime("%Y-%m")


def _quarter_key(values: tuple[Any, ...]) -> str:
    day = _local_date(values[0])
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _year_key(values: tuple[Any, ...]) -> str:
    return str(_local_date(values[0]).year)


def period_bounds(key: str) -> tuple[dt.date, dt.date]:
    """First and last day of a "2026", "2026-Q4" or "2026-11" bucket."""
    year = int(key[:4])
    if len(key) == 4:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if key[5] == "Q":
        first_month = (int(key[6]) - 1) * 3 + 1
        start, months = dt.date(year, first_month, 1), 3
    else:
        start, months = dt.date(year, int(key[5:7]), 1), 1
    month = start.month + months
    following = dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def _param_date(params: Mapping[str, Any], name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(params.get(name) or ""))
    except ValueError:
        return None


def _period_filter(prefix: str) -> Callable[[str, Mapping[str, Any]], dict[str, str]]:
    """created_from/created_to (or followed_*) of the bucket, clipped to the page's range."""

    def to_filter(key: str, params: Mapping[str, Any]) -> dict[str, str]:
        start, end = period_bounds(key)
        chosen_from = _param_date(params, f"{prefix}_from")
        chosen_to = _param_date(params, f"{prefix}_to")
        start = max(start, chosen_from) if chosen_from else start
        end = min(end, chosen_to) if chosen_to else end
        return {f"{prefix}_from": start.isoformat(), f"{prefix}_to": end.isoformat()}

    return to_filter


def _periods(column: str, prefix: str, label_prefix: Any) -> list[Dimension]:
    made = []
    for name, trunc, to_key, unit in (
        ("month", TruncMonth, _month_key, _("月")),
        ("quarter", TruncQuarter, _quarter_key, _("季度")),
        ("year", TruncYear, _year_key, _("年")),
    ):
        made.append(
            Dimension(
                name=f"{prefix}_{name}",
                label=f"{label_prefix}（{unit}）",
                paths=(trunc(column),),
                to_key=to_key,
                to_filter=_period_filter(prefix),
                labels=_as_is,
                chronological=True,
            )
        )
    return made


# --- the allow-lists ----------------------------------------------------------------------


def customer_dimensions() -> dict[str, Dimension]:
    dims = [
        Dimension(
            "status",
            _("客户状态"),
            (F("status"),),
            _exact("status", False),
            _choices(CustomerStatus.choices),
        ),
        Dimension(
            "customer_type",
            _("客户类型"),
            (F("customer_type"),),
            _exact("customer_type", False),
            _choices(CustomerType.choices),
        ),
        Dimension(
            "review_status",
            _("审核状态"),
            (F("review_status"),),
            _exact("review_status", False),
            _choices(ReviewStatus.choices),
        ),
        *(
            Dimension(name, label, (F(name),), _exact(name), _dictionary(DICTIONARY_FIELDS[name]))
            for name, label in (
                ("category", _("客户分类")),
                ("industry", _("所属行业")),
                ("source", _("客户来源")),
            )
        ),
        Dimension("province", _("省份"), (F("province"),), _exact("province"), _as_is),
        Dimension(
            "city",
            _("城市"),
            (F("province"), F("city")),
            _city_filter,
            _city_labels,
            to_key=_city_key,
        ),
        Dimension("owner", _("负责人"), (F("owner_id"),), _exact("owner_id", False), _user_names),
        Dimension(
            "department",
            _("所属部门"),
            (F("department_id"),),
            _exact("department_id"),
            _department_names,
        ),
        *_periods("created_at", "created", _("创建时间")),
        Dimension("tag", _("标签"), (F("tags__name"),), _exact("tag"), _as_is, multi_valued=True),
    ]
    return {d.name: d for d in dims}


def follow_up_dimensions() -> dict[str, Dimension]:
    dims = [
        Dimension("owner", _("跟进人"), (F("owner_id"),), _exact("owner_id", False), _user_names),
        Dimension(
            "department",
            _("跟进人部门"),
            (F("owner__department_id"),),
            _exact("department_id"),
            _department_names,
        ),
        Dimension(
            "method", _("跟进方式"), (F("method"),), _exact("method"), _dictionary(METHOD_DICT)
        ),
        Dimension(
            "result", _("跟进结果"), (F("result"),), _exact("result"), _dictionary(RESULT_DICT)
        ),
        *[
            d
            for d in _periods("followed_at", "followed", _("跟进时间"))
            if not d.name.endswith("year")
        ],
        Dimension(
            "customer_status",
            _("客户状态"),
            (F("customer__status"),),
            _exact("customer_status", False),
            _choices(CustomerStatus.choices),
        ),
        Dimension(
            "customer_category",
            _("客户分类"),
            (F("customer__category"),),
            _exact("customer_category"),
            _dictionary(DICTIONARY_FIELDS["category"]),
        ),
        Dimension(
            "customer_industry",
            _("客户行业"),
            (F("customer__industry"),),
            _exact("customer_industry"),
            _dictionary(DICTIONARY_FIELDS["industry"]),
        ),
    ]
    return {d.name: d for d in dims}


def dimensions(source: str) -> dict[str, Dimension]:
    return customer_dimensions() if source == CUSTOMERS else follow_up_dimensions()


@dataclass(frozen=True)
class NumericField:
    """A number the sum and average measures may add up (completeness or a custom field)."""

    name: str
    label: Any
    expression: Any
    places: int


def numeric_fields(source: str) -> dict[str, NumericField]:
    """Follow-ups carry no numbers, so only customers can be summed or averaged."""
    if source != CUSTOMERS:
        return {}
    fields = {"completeness": NumericField("completeness", _("完整度"), F("completeness"), 0)}
    for custom in definitions(Customer.scope_object_type):
        if custom.field_type in NUMERIC_TYPES:
            number = DecimalField(max_digits=30, decimal_places=6)
            name = f"{CUSTOM_PREFIX}{custom.key}"
            fields[name] = NumericField(
                name,
                custom.shown_label,
                Cast(KeyTextTransform(custom.key, "custom_fields"), number),
                2 if custom.field_type == CustomFieldType.MONEY else 6,
            )
    return fields


def blank_label() -> str:
    return str(BLANK_LABEL)
