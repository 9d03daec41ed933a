"""Customer page forms. They only check the shape of the input: every rule (required fields,
phone formats, regions, dictionaries, duplicates) lives in customers.validation and the
services, so the page, the API and imports give the same answers in the same words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.core import custom_field_forms, custom_field_queries, regions
from guanxi.core.custom_fields import choice_labels, definitions
from guanxi.core.dictionaries import dictionary_choices, dictionary_labels
from guanxi.core.models import CustomField
from guanxi.core.scopes import ALL, DEPARTMENT, DEPARTMENT_TREE, department_ids, effective_scope
from guanxi.customers.choices import CustomerStatus, CustomerType
from guanxi.customers.models import Customer, Tag
from guanxi.customers.validation import DICTIONARY_FIELDS

Choices = list[tuple[str, Any]]
_TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")
# Fields the user must fill: marked in the form, enforced by customers.validation.
REQUIRED_FIELDS = frozenset({"name", "contact_name"})
SENSITIVE_INPUTS = ("mobile", "phone", "email", "uscc", "id_number")


def split_tags(text: str) -> list[str]:
    """ "重点跟进，老客户、华南区" → three tags (Chinese and ASCII separators both work)."""
    seen: dict[str, None] = {}
    for part in _TAG_SEPARATORS.split(text or ""):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)


def _blank(label: Any = "") -> Choices:
    return [("", label or "—")]


def province_choices() -> Choices:
    """Region selects carry names, the form customers are stored in."""
    return [(name, name) for _code, name in regions.provinces()]


def city_choices(province: str) -> Choices:
    return [(name, name) for _code, name in regions.cities(province)] if province else []


def district_choices(province: str, city: str) -> Choices:
    if not (province and city):
        return []
    return [(name, name) for _code, name in regions.districts(province, city)]


def region_cascade_attrs(fields: Mapping[str, forms.Field], *, with_district: bool) -> None:
    """Let app.js refill the city (and district) select when the parent changes."""
    url = reverse("customers:regions")
    fields["province"].widget.attrs.update(
        {"data-region-child": "#id_city", "data-region-url": url}
    )
    if with_district:
        fields["city"].widget.attrs.update(
            {
                "data-region-child": "#id_district",
                "data-region-province": "#id_province",
                "data-region-url": url,
            }
        )


def _with_current(choices: Choices, value: str) -> Choices:
    """Keep a stored value selectable even when it is no longer offered (inactive item)."""
    if value and value not in {code for code, _label in choices}:
        return [*choices, (value, value)]
    return choices


def _select(label: Any, *, required_mark: bool = False) -> forms.CharField:
    field = forms.CharField(
        label=label,
        required=False,
        max_length=64,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    field.required_mark = required_mark  # type: ignore[attr-defined]
    return field


def _text(label: Any, max_length: int, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.TextInput(attrs={"class": "form-control", **attrs}),
    )


def owner_choices(user: Any) -> list[tuple[int, str]]:
    """People whose customers ``user`` can see (the owner filter offers nobody else)."""
    scope = effective_scope(user, "view", "customer")
    people = User.objects.filter(is_active=True).only("id", "name", "username")
    if scope in (DEPARTMENT, DEPARTMENT_TREE):
        ids = department_ids(user, with_descendants=scope == DEPARTMENT_TREE)
        people = people.filter(Q(department_id__in=ids) | Q(pk=user.pk))
    elif scope != ALL:
        people = people.filter(pk=user.pk)
    return [(person.pk, person.display_name) for person in people]


def tag_names() -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:500])


# Fields that steer the form itself and never reach the service.
FORM_ONLY_FIELDS = ("version", "confirm_duplicates", "loaded_at")


class CustomerForm(forms.Form):
    """Create/edit input; ``version`` is set on edit so a stale save is refused (ERR-007)."""

    name = _text(_("客户名称"), 200, autocomplete="organization")
    customer_type = forms.ChoiceField(
        label=_("客户类型"),
        choices=CustomerType.choices,
        initial=CustomerType.ENTERPRISE,
        widget=forms.RadioSelect,
    )
    contact_name = _text(_("联系人"), 200, autocomplete="name")
    mobile = _text(_("手机号"), 40, inputmode="tel", autocomplete="tel")
    phone = _text(_("固定电话"), 40, inputmode="tel", placeholder="010-12345678")
    email = _text(_("邮箱"), 254, inputmode="email", autocomplete="email")
    uscc = _text(_("统一社会信用代码"), 40)
    id_number = _text(_("身份证号"), 40)
    industry = _select(_("所属行业"))
    category = _select(_("客户分类"))
    source = _select(_("客户来源"))
    province = _select(_("省份"))
    city = _select(_("城市"))
    district = _select(_("区县"))
    address = _text(_("详细地址"), 255)
    tags = _text(_("标签"), 500, placeholder=_("多个标签用逗号分隔，如：重点跟进，老客户"))
    notes = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # When the edit form was opened: a stale save lists what others changed since.
    loaded_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    # Ticked on the second submit, after the page showed similar customers (not blocking).
    confirm_duplicates = forms.BooleanField(
        label=_("我已核对，确认不是同一客户，仍然保存"), required=False
    )

    def __init__(
        self,
        *args: Any,
        hidden_sensitive: bool = False,
        custom_fields: list[CustomField] | None = None,
        stored_custom: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_sensitive = hidden_sensitive
        if custom_fields is None:
            custom_fields = definitions(Customer.scope_object_type)
        # Admin-defined fields, after the customer's own (stored values keep their choices).
        self.custom_names = custom_field_forms.add_fields(self, custom_fields, stored_custom or {})
        for dict_field, dict_code in DICTIONARY_FIELDS.items():
            self.fields[dict_field].widget.choices = self._dictionary_choices(dict_field, dict_code)
        province, city = self._value("province"), self._value("city")
        self._set_region_choices(province, city)
        region_cascade_attrs(self.fields, with_district=True)
        for name in REQUIRED_FIELDS:
            self.fields[name].required_mark = True  # type: ignore[attr-defined]
        if hidden_sensitive:
            for name in SENSITIVE_INPUTS:
                self.fields[name].widget.attrs["placeholder"] = _("已隐藏，留空表示不修改")

    @property
    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.custom_names]

    def _dictionary_choices(self, field: str, dict_code: str) -> Choices:
        """Active items only; a stored inactive value stays selectable under its label."""
        choices = _blank(_("请选择")) + dictionary_choices(dict_code)
        value = self._value(field)
        if value and value not in {code for code, _label in choices}:
            choices.append((value, dictionary_labels(dict_code).get(value, value)))
        return choices

    def _value(self, name: str) -> str:
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        return str(raw or "")

    def _set_region_choices(self, province: str, city: str) -> None:
        fields = self.fields
        fields["province"].widget.choices = _with_current(
            _blank(_("省份")) + province_choices(), province
        )
        fields["city"].widget.choices = _with_current(
            _blank(_("城市")) + city_choices(province), city
        )
        fields["district"].widget.choices = _with_current(
            _blank(_("区县")) + district_choices(province, city), self._value("district")
        )

    def service_data(self) -> dict[str, Any]:
        """The cleaned input in the shape customer_create / customer_update take."""
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in FORM_ONLY_FIELDS and k not in self.custom_names
        }
        data["tags"] = split_tags(data.get("tags", ""))
        data["custom_fields"] = custom_field_forms.service_values(self, self.custom_names)
        if self.hidden_sensitive:
            # Masked values were never shown; an empty box means "keep what is stored".
            for name in SENSITIVE_INPUTS:
                if not str(data.get(name) or "").strip():
                    data.pop(name, None)
        return data


class StatusChangeForm(forms.Form):
    """New status and why; the time, operator and IP are recorded by the service."""

    status = forms.ChoiceField(
        label=_("新状态"),
        choices=CustomerStatus.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reason = forms.CharField(
        label=_("变更原因"),
        required=False,
        max_length=255,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class CustomerFilterForm(forms.Form):
    """Renders the list filters (the same names as customers.filters.CustomerFilter).

    It is for display only: the bound CustomerFilter validates and filters.
    """

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "type": "search",
                "placeholder": _("名称 / 联系人 / 拼音 / 首字母 / 编号 / 电话"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("客户状态"),
        required=False,
        choices=_blank(_("全部状态")) + list(CustomerStatus.choices),
    )
    category = forms.ChoiceField(label=_("客户分类"), required=False)
    industry = forms.ChoiceField(label=_("所属行业"), required=False)
    province = forms.ChoiceField(label=_("省份"), required=False)
    city = forms.ChoiceField(label=_("城市"), required=False)
    owner_id = forms.ChoiceField(label=_("负责人"), required=False)
    tag = forms.ChoiceField(label=_("标签"), required=False)
    created_from = forms.DateField(
        label=_("创建日期从"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    created_to = forms.DateField(
        label=_("创建日期至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        labels: Mapping[str, Mapping[str, str]],
        owners: Iterable[tuple[Any, str]],
        tags: Iterable[str],
        custom_fields: Iterable[CustomField] = (),
    ) -> None:
        super().__init__(data)
        custom_fields = list(custom_fields)
        self.fields.update(
            custom_field_queries.form_fields(custom_fields, choice_labels(custom_fields))
        )
        province = str(data.get("province") or "")
        city = str(data.get("city") or "")
        self.fields["category"].choices = _blank(_("全部分类")) + list(
            labels["customer_category"].items()
        )
        self.fields["industry"].choices = _blank(_("全部行业")) + list(labels["industry"].items())
        self.fields["province"].choices = _with_current(
            _blank(_("全部省份")) + province_choices(), province
        )
        self.fields["city"].choices = _with_current(
            _blank(_("全部城市")) + city_choices(province), city
        )
        self.fields["owner_id"].choices = _blank(_("全部负责人")) + [
            (str(pk), name) for pk, name in owners
        ]
        self.fields["tag"].choices = _blank(_("全部标签")) + [(t, t) for t in tags]
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
        region_cascade_attrs(self.fields, with_district=False)
