"""系统设置 → 自定义字段: list, add, edit and deactivate the fields of each object type.

Only holders of ``core.change_customfield`` see these pages; the rules and the audit are in
core.custom_field_services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.custom_field_services import (
    PERM,
    custom_field_create,
    custom_field_update,
)
from guanxi.core.custom_fields import OBJECT_TYPES
from guanxi.core.models import CustomField, CustomFieldType, DictionaryType
from guanxi.core.settings_pages import save_with_form, toggle_active

MSG_SAVED = _("自定义字段“%(label)s”已保存")
MSG_ON = _("自定义字段“%(label)s”已启用")
MSG_OFF = _("自定义字段“%(label)s”已停用，已有记录中的值仍保留")


def _check(**attrs: Any) -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "form-check-input", **attrs})


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


class CustomFieldForm(forms.Form):
    """Shape only; the rules (key format, types, dictionaries) are in the service."""

    object_type = forms.ChoiceField(
        label=_("对象"), choices=[], widget=forms.Select(attrs={"class": "form-select"})
    )
    label = forms.CharField(label=_("名称"), max_length=200, required=False, widget=_text())
    key = forms.CharField(
        label=_("字段标识"),
        max_length=80,
        required=False,
        widget=_text(placeholder="contract_level", autocomplete="off"),
    )
    field_type = forms.ChoiceField(
        label=_("类型"),
        choices=CustomFieldType.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    dictionary_id = forms.ChoiceField(
        label=_("数据字典"),
        required=False,
        choices=[],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    label_en = forms.CharField(label=_("英文名称"), max_length=200, required=False, widget=_text())
    help_text = forms.CharField(label=_("填写说明"), max_length=400, required=False, widget=_text())
    sort = forms.CharField(
        label=_("排序"), max_length=10, required=False, widget=_text(inputmode="numeric")
    )
    required = forms.BooleanField(label=_("必填"), required=False, widget=_check())
    show_in_list = forms.BooleanField(label=_("在列表中显示"), required=False, widget=_check())
    filterable = forms.BooleanField(label=_("可作为筛选条件"), required=False, widget=_check())
    searchable = forms.BooleanField(
        label=_("参与关键字搜索（单行文本）"), required=False, widget=_check()
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True, widget=_check())

    FIXED = ("object_type", "key", "field_type", "dictionary_id")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = list(OBJECT_TYPES.items())
        self.fields["dictionary_id"].choices = [("", _("请选择"))] + [
            (str(t.pk), f"{t.name}（{t.code}）") for t in DictionaryType.objects.order_by("code")
        ]
        if editing:
            for name in self.FIXED:
                self.fields[name].disabled = True
                self.fields[name].required = False

    def flags(self) -> list[forms.BoundField]:
        return [self[n] for n in ("required", "show_in_list", "filterable", "searchable")]


def _guard(request: HttpRequest) -> None:
    if not request.user.has_perm(PERM):
        raise HttpForbidden()


def _list_url(object_type: str) -> str:
    return f"{reverse('core:custom_fields')}?object={object_type}"


def _form_page(
    request: HttpRequest, form: CustomFieldForm, field: CustomField | None
) -> HttpResponse:
    return render(
        request,
        "core/custom_field_form.html",
        {"form": form, "field": field},
        status=422 if form.is_bound else 200,
    )


def _saved(request: HttpRequest, field: CustomField) -> HttpResponse:
    messages.success(request, MSG_SAVED % {"label": field.label})
    return redirect(_list_url(field.object_type))


@login_required
def custom_field_list(request: HttpRequest) -> HttpResponse:
    """The fields of one object type (inactive ones too, greyed out)."""
    _guard(request)
    object_type = request.GET.get("object")
    if object_type not in OBJECT_TYPES:
        object_type = next(iter(OBJECT_TYPES))
    fields = CustomField.objects.filter(object_type=object_type).select_related("dictionary")
    context = {
        "object_types": OBJECT_TYPES,
        "selected": object_type,
        "fields": list(fields.order_by("sort", "id")),
    }
    return render(request, "core/custom_fields.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_new(request: HttpRequest) -> HttpResponse:
    _guard(request)
    object_type = request.GET.get("object") or next(iter(OBJECT_TYPES))
    form = CustomFieldForm(
        request.POST or None, initial={"object_type": object_type, "is_active": True}
    )
    if request.method == "POST" and form.is_valid():
        saved = save_with_form(
            request, form, lambda **kw: custom_field_create(actor=request.user, **kw)
        )
        if saved is not None:
            return _saved(request, saved)
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _guard(request)
    field = get_object_or_404(CustomField.objects.select_related("dictionary"), pk=pk)
    initial = {
        f: getattr(field, f)
        for f in (
            "object_type",
            "key",
            "field_type",
            "label",
            "label_en",
            "help_text",
            "sort",
            "required",
            "show_in_list",
            "filterable",
            "searchable",
            "is_active",
        )
    }
    initial["dictionary_id"] = str(field.dictionary_id or "")
    form = CustomFieldForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        saved = save_with_form(
            request,
            form,
            lambda **kw: custom_field_update(actor=request.user, field=field, **kw),
        )
        if saved is not None:
            return _saved(request, saved)
    return _form_page(request, form, field)


@login_required
@require_POST
def custom_field_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (values stay on the records) or re-activate in one click."""
    _guard(request)
    field = get_object_or_404(CustomField, pk=pk)
    updated = toggle_active(
        request,
        lambda **kw: custom_field_update(actor=request.user, field=field, **kw),
        field.is_active,
        on_message=MSG_ON,
        off_message=MSG_OFF,
    )
    return redirect(_list_url((updated or field).object_type))
