"""List filters over custom field values, as django-filter filters a FilterSet adds at run time.

Query parameters: ``cf_<key>`` (text contains, choice / yes-no equals, multi choice holds the
code) and ``cf_<key>__from`` / ``cf_<key>__to`` (number, money and date ranges). Keys never
contain ``__``, so the names cannot collide. On PostgreSQL, equality and "holds" are JSON
containment, which the GIN index on ``custom_fields`` answers; SQLite compares extracted values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db import connections
from django.db.models import BooleanField, DecimalField, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import CustomField, CustomFieldType

T = CustomFieldType
COLUMN = "custom_fields"
RANGE_TYPES = (T.NUMBER, T.MONEY, T.DATE)
BOOLEAN_CHOICES = (("true", _("是")), ("false", _("否")))


def param_names(field: CustomField) -> tuple[str, ...]:
    """The query parameters a filterable field answers to."""
    base = f"cf_{field.key}"
    if field.field_type in RANGE_TYPES:
        return (f"{base}__from", f"{base}__to")
    return (base,)


def _vendor(qs: QuerySet) -> str:
    return connections[qs.db].vendor


def text_of(key: str) -> Cast:
    """The value under ``key`` as SQL text. The cast matters: lookups on a bare key
    transform are JSON lookups (SQLite would parse the compared value as JSON)."""
    return Cast(KeyTextTransform(key, COLUMN), TextField())


def holds(qs: QuerySet, key: str, value: Any, *, in_list: bool = False) -> QuerySet:
    """Rows whose value under ``key`` equals ``value`` (or, ``in_list``, whose list has it)."""
    if _vendor(qs) == "postgresql":
        return qs.filter(**{f"{COLUMN}__contains": {key: [value] if in_list else value}})
    if in_list:
        table = qs.model._meta.db_table
        sql = (
            f'EXISTS (SELECT 1 FROM json_each("{table}"."{COLUMN}", %s) AS cf WHERE cf.value = %s)'
        )
        return qs.filter(RawSQL(sql, (f'$."{key}"', value), output_field=BooleanField()))
    if isinstance(value, bool):
        sql = f'json_extract("{qs.model._meta.db_table}"."{COLUMN}", %s) = %s'
        return qs.filter(RawSQL(sql, (f'$."{key}"', int(value)), output_field=BooleanField()))
    return qs.alias(**{f"_cf_{key}": text_of(key)}).filter(**{f"_cf_{key}": value})


def _range(qs: QuerySet, field: CustomField, bound: str, value: Any) -> QuerySet:
    alias = f"_cf_{field.key}_{bound}"
    if field.field_type == T.DATE:
        expression: Any = text_of(field.key)
        value = value.isoformat()
    else:
        number = DecimalField(max_digits=30, decimal_places=6)
        expression = Cast(KeyTextTransform(field.key, COLUMN), number)
    return qs.alias(**{alias: expression}).filter(**{f"{alias}__{bound}": value})


def filters_for(fields: Iterable[CustomField]) -> dict[str, django_filters.Filter]:
    """name → filter for every filterable active field."""
    filters: dict[str, django_filters.Filter] = {}
    for field in fields:
        if not (field.is_active and field.filterable):
            continue
        label = field.shown_label
        kind = field.field_type
        names = param_names(field)
        if kind in RANGE_TYPES:
            make = django_filters.DateFilter if kind == T.DATE else django_filters.NumberFilter
            for name, bound in zip(names, ("gte", "lte"), strict=True):

                def by_range(qs: QuerySet, _n: str, value: Any, f=field, b=bound) -> QuerySet:
                    return _range(qs, f, b, value)

                filters[name] = make(method=by_range, label=label)
        elif kind == T.BOOLEAN:

            def by_flag(qs: QuerySet, _n: str, value: Any, f=field) -> QuerySet:
                return holds(qs, f.key, value == "true")

            filters[names[0]] = django_filters.ChoiceFilter(
                method=by_flag, label=label, choices=BOOLEAN_CHOICES
            )
        elif kind in (T.CHOICE, T.MULTI_CHOICE):

            def by_code(qs: QuerySet, _n: str, value: Any, f=field) -> QuerySet:
                return holds(qs, f.key, value.strip(), in_list=f.field_type == T.MULTI_CHOICE)

            filters[names[0]] = django_filters.CharFilter(
                method=by_code, label=label, max_length=32
            )
        else:

            def by_text(qs: QuerySet, _n: str, value: Any, f=field) -> QuerySet:
                alias = f"_cf_{f.key}"
                return qs.alias(**{alias: text_of(f.key)}).filter(
                    **{f"{alias}__icontains": value.strip()}
                )

            filters[names[0]] = django_filters.CharFilter(
                method=by_text, label=label, max_length=100
            )
    return filters


def form_fields(
    fields: Iterable[CustomField], labels: dict[str, dict[str, str]]
) -> dict[str, forms.Field]:
    """Display fields for a filter bar (the bound FilterSet still validates and filters)."""
    out: dict[str, forms.Field] = {}
    for field in fields:
        if not (field.is_active and field.filterable):
            continue
        label = field.shown_label
        names = param_names(field)
        kind = field.field_type
        if kind in RANGE_TYPES:
            input_type = "date" if kind == T.DATE else "number"
            for name, suffix in zip(names, (_("从"), _("至")), strict=True):
                out[name] = forms.CharField(
                    label=f"{label}{suffix}",
                    required=False,
                    widget=forms.TextInput(
                        attrs={"type": input_type, "class": "form-control", "step": "any"}
                    ),
                )
        elif kind == T.BOOLEAN or field.is_choice:
            options = BOOLEAN_CHOICES if kind == T.BOOLEAN else labels.get(field.key, {}).items()
            out[names[0]] = forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", _("全部")), *list(options)],
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        else:
            out[names[0]] = forms.CharField(
                label=label,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
    return out
