"""Form fields for custom field values. They only shape the input (the values are checked
by core.custom_fields in the service), named ``cf_<key>`` beside an object's own fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.custom_fields import PREFIX
from guanxi.core.dictionaries import dictionary_choices, dictionary_labels
from guanxi.core.models import CustomField, CustomFieldType

T = CustomFieldType
FORM_PREFIX = "cf_"
YES_NO = [("", "—"), ("true", _("是")), ("false", _("否"))]


def form_name(key: str) -> str:
    return FORM_PREFIX + key


def error_field(name: str) -> str:
    """The form field a service error key (``custom_fields.<key>``) belongs to."""
    return form_name(name[len(PREFIX) :]) if name.startswith(PREFIX) else name


def _choices(field: CustomField, held: Any) -> list[tuple[str, str]]:
    """Active items, plus the items the record holds that were deactivated since."""
    code = field.dictionary.code if field.dictionary else ""
    choices = dictionary_choices(code)
    offered = {c for c, _label in choices}
    held_codes = held if isinstance(held, list) else [held] if held else []
    missing = [c for c in held_codes if c not in offered]
    if missing:
        labels = dictionary_labels(code)
        choices += [(c, labels.get(c, c)) for c in missing]
    return choices


def _form_field(field: CustomField, held: Any) -> forms.Field:
    common: dict[str, Any] = {"label": field.shown_label, "required": False}
    if field.help_text:
        common["help_text"] = field.help_text
    kind = field.field_type
    control = {"class": "form-control"}
    if kind == T.LONG_TEXT:
        widget: forms.Widget = forms.Textarea(attrs={**control, "rows": 3})
        form_field: forms.Field = forms.CharField(max_length=6000, widget=widget, **common)
    elif kind in (T.NUMBER, T.MONEY):
        attrs = {**control, "inputmode": "decimal"}
        if kind == T.MONEY:
            attrs["placeholder"] = "0.00"
        form_field = forms.CharField(max_length=40, widget=forms.TextInput(attrs), **common)
    elif kind == T.DATE:
        attrs = {**control, "type": "date"}
        form_field = forms.CharField(max_length=40, widget=forms.TextInput(attrs), **common)
    elif kind == T.BOOLEAN:
        widget = forms.Select(attrs={"class": "form-select"}, choices=YES_NO)
        form_field = forms.CharField(max_length=8, widget=widget, **common)
    elif kind == T.CHOICE:
        widget = forms.Select(
            attrs={"class": "form-select"}, choices=[("", _("请选择")), *_choices(field, held)]
        )
        form_field = forms.CharField(max_length=64, widget=widget, **common)
    elif kind == T.MULTI_CHOICE:
        form_field = forms.MultipleChoiceField(
            choices=_choices(field, held),
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            **common,
        )
    else:
        form_field = forms.CharField(max_length=300, widget=forms.TextInput(control), **common)
    form_field.required_mark = field.required  # type: ignore[attr-defined]
    form_field.custom_type = kind  # type: ignore[attr-defined]
    return form_field


def add_fields(
    form: forms.Form, fields: Iterable[CustomField], stored: Mapping[str, Any]
) -> list[str]:
    """Add a form field per active custom field; returns their names in order."""
    names = []
    for field in fields:
        if not field.is_active:
            continue
        name = form_name(field.key)
        form.fields[name] = _form_field(field, stored.get(field.key))
        names.append(name)
    return names


def initial_values(fields: Iterable[CustomField], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values as the form fields take them."""
    initial: dict[str, Any] = {}
    for field in fields:
        value = stored.get(field.key)
        if value is None:
            continue
        if field.field_type == T.BOOLEAN:
            value = "true" if value else "false"
        initial[form_name(field.key)] = value
    return initial


def service_values(form: forms.Form, names: Iterable[str]) -> dict[str, Any]:
    """The posted custom values as the service takes them (key → raw value)."""
    return {name[len(FORM_PREFIX) :]: form.cleaned_data.get(name) for name in names}
