"""系统设置 → 数据字典: list picklists and add, edit or deactivate their items.

Only holders of ``core.change_dictionaryitem`` see these pages (others get 403); the writes
are in core.dictionary_services, which checks the permission again and audits.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.dictionary_services import PERM, dictionary_item_create, dictionary_item_update
from guanxi.core.models import DictionaryItem, DictionaryType
from guanxi.core.settings_pages import save_with_form, toggle_active

MSG_SAVED = _("字典项“%(label)s”已保存")
MSG_TOGGLED_ON = _("字典项“%(label)s”已启用")
MSG_TOGGLED_OFF = _("字典项“%(label)s”已停用，已有记录仍显示其名称")


class DictionaryItemForm(forms.Form):
    """Shape only; the rules (code format, uniqueness) are in dictionary_services."""

    code = forms.CharField(
        label=_("编码"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    label = forms.CharField(
        label=_("名称"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    label_en = forms.CharField(
        label=_("英文名称"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    sort = forms.CharField(
        label=_("排序"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    is_active = forms.BooleanField(
        label=_("启用"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def _guard(request: HttpRequest) -> None:
    if not request.user.has_perm(PERM):
        raise HttpForbidden()


def _list_url(type_code: str) -> str:
    return f"{reverse('core:dictionaries')}?type={type_code}"


@login_required
def dictionary_list(request: HttpRequest) -> HttpResponse:
    """Every picklist and its items (inactive ones too, greyed out)."""
    _guard(request)
    types = list(
        DictionaryType.objects.prefetch_related(
            Prefetch("items", queryset=DictionaryItem.objects.order_by("sort", "code"))
        )
    )
    selected = next(
        (t for t in types if t.code == request.GET.get("type")), types[0] if types else None
    )
    return render(request, "core/dictionaries.html", {"types": types, "selected": selected})


@login_required
@require_http_methods(["GET", "POST"])
def dictionary_item_new(request: HttpRequest, type_code: str) -> HttpResponse:
    _guard(request)
    dict_type = get_object_or_404(DictionaryType, code=type_code)
    form = DictionaryItemForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        item = save_with_form(
            request,
            form,
            lambda **kw: dictionary_item_create(actor=request.user, dict_type=dict_type, **kw),
        )
        if item is not None:
            messages.success(request, MSG_SAVED % {"label": item.label})
            return redirect(_list_url(type_code))
    return render(
        request,
        "core/dictionary_item_form.html",
        {"form": form, "dict_type": dict_type, "item": None},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dictionary_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _guard(request)
    item = get_object_or_404(DictionaryItem.objects.select_related("dict_type"), pk=pk)
    initial = {f: getattr(item, f) for f in ("code", "label", "label_en", "sort", "is_active")}
    form = DictionaryItemForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        saved = save_with_form(
            request, form, lambda **kw: dictionary_item_update(actor=request.user, obj=item, **kw)
        )
        if saved is not None:
            messages.success(request, MSG_SAVED % {"label": saved.label})
            return redirect(_list_url(item.dict_type.code))
    return render(
        request,
        "core/dictionary_item_form.html",
        {"form": form, "dict_type": item.dict_type, "item": item},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_POST
def dictionary_item_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (or re-activate) in one click from the list."""
    _guard(request)
    item = get_object_or_404(DictionaryItem.objects.select_related("dict_type"), pk=pk)
    updated = toggle_active(
        request,
        lambda **kw: dictionary_item_update(actor=request.user, obj=item, **kw),
        item.is_active,
        on_message=MSG_TOGGLED_ON,
        off_message=MSG_TOGGLED_OFF,
    )
    return redirect(_list_url((updated or item).dict_type.code))
