"""Forms of the organisation admin pages. They check the shape of the input only; the rules
(required fields, formats, uniqueness, cycles, who may grant what) live in the services, so
the pages, the API and imports answer alike."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.accounts import selectors
from guanxi.accounts.choices import Gender, UserStatus
from guanxi.core.scopes import SCOPE_CHOICES, SCOPED_OBJECT_TYPES

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
CHECK = {"class": "form-check-input"}


def _text(label: Any, max_length: int = 200, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, **attrs}),
    )


def _department_select(label: Any, blank: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", blank), *selectors.department_choices()],
        widget=forms.Select(attrs=SELECT),
    )


# --- departments ------------------------------------------------------------------------


class DepartmentForm(forms.Form):
    name = _text(_("部门名称"), 200)
    parent_id = forms.ChoiceField(label=_("上级部门"), required=False)
    manager_id = forms.ChoiceField(label=_("部门负责人"), required=False)
    sort = _text(_("排序"), 10, inputmode="numeric")

    def __init__(self, *args: Any, exclude_subtree: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        depts = selectors.department_choices_with_paths()
        self.fields["parent_id"] = forms.ChoiceField(
            label=_("上级部门"),
            required=False,
            choices=[("", _("无（顶级部门）"))]
            + [
                (pk, label)
                for pk, label, path in depts
                if not (exclude_subtree and path.startswith(exclude_subtree))
            ],
            widget=forms.Select(attrs=SELECT),
        )
        self.fields["manager_id"] = forms.ChoiceField(
            label=_("部门负责人"),
            required=False,
            choices=[("", _("未指定"))]
            + [(u.pk, f"{u.display_name}（{u.username}）") for u in selectors.assignable_users()],
            widget=forms.Select(attrs=SELECT),
        )

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in ("parent_id", "manager_id"):
            data[key] = data[key] or None
        data["sort"] = data["sort"] or 0
        return data


# --- users ------------------------------------------------------------------------------


class UserFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("用户名 / 姓名 / 工号 / 邮箱")}),
    )
    department_id = forms.ChoiceField(label=_("部门"), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部（不含已删除）")), *UserStatus.choices],
        widget=forms.Select(attrs=SELECT),
    )
    role = forms.ChoiceField(label=_("角色"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department_id"] = _department_select(_("部门"), _("全部部门"))
        self.fields["role"] = forms.ChoiceField(
            label=_("角色"),
            required=False,
            choices=[("", _("全部角色")), *selectors.role_choices()],
            widget=forms.Select(attrs=SELECT),
        )


class UserForm(forms.Form):
    """Create and edit; on edit the username is fixed and there is no password."""

    username = _text(_("用户名"), 150, autocomplete="off")
    name = _text(_("姓名"), 200)
    employee_no = _text(_("工号"), 64)
    department_id = forms.ChoiceField(label=_("部门"), required=False)
    title = _text(_("职务"), 200)
    mobile = _text(_("手机号"), 40, inputmode="tel")
    email = _text(_("邮箱"), 254, inputmode="email")
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=Gender.choices, widget=forms.Select(attrs=SELECT)
    )
    roles = forms.MultipleChoiceField(
        label=_("角色"), required=False, widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        label=_("初始密码"),
        required=False,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "new-password"}),
    )
    must_change_password = forms.BooleanField(
        label=_("首次登录须修改密码"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs=CHECK),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department_id"] = _department_select(_("部门"), _("请选择部门"))
        self.fields["roles"].choices = selectors.role_choices()
        if editing:
            self.fields["username"].disabled = True
            del self.fields["password"]
            del self.fields["must_change_password"]

    def service_data(self) -> dict[str, Any]:
        skip = ("roles", "password", "must_change_password")
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}


class LockForm(forms.Form):
    until = forms.DateTimeField(
        label=_("锁定至"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={**TEXT, "type": "datetime-local"}),
        help_text=_("留空表示一直锁定，直到管理员解锁"),
    )
    reason = forms.CharField(
        label=_("锁定原因"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs=TEXT),
    )


class DisableForm(forms.Form):
    reason = forms.CharField(
        label=_("禁用原因"), required=False, max_length=255, widget=forms.TextInput(attrs=TEXT)
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("用户文件（CSV 或 XLSX）"),
        widget=forms.ClearableFileInput(attrs={**TEXT, "accept": ".csv,.xlsx"}),
    )


# --- roles ------------------------------------------------------------------------------


class RoleForm(forms.Form):
    """Fields of a role; the permission checkboxes and per-type scopes are added per object
    type so the template can group them (basic / advanced / sensitive)."""

    code = _text(_("角色编码"), 64)
    name = _text(_("角色名称"), 200)
    description = _text(_("说明"), 255)
    read_scope = forms.ChoiceField(
        label=_("默认查看范围"), choices=SCOPE_CHOICES, widget=forms.Select(attrs=SELECT)
    )
    write_scope = forms.ChoiceField(
        label=_("默认编辑范围"), choices=SCOPE_CHOICES, widget=forms.Select(attrs=SELECT)
    )
    require_2fa = forms.BooleanField(
        label=_("强制双因素认证"), required=False, widget=forms.CheckboxInput(attrs=CHECK)
    )
    permissions = forms.MultipleChoiceField(required=False)

    def __init__(
        self, *args: Any, permission_ids: list[int], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(str(pk), str(pk)) for pk in permission_ids]
        if editing:
            self.fields["code"].disabled = True
        scope_choices = [("", _("使用默认范围")), *SCOPE_CHOICES]
        for object_type in SCOPED_OBJECT_TYPES:
            for kind, label in (("read", _("查看范围")), ("write", _("编辑范围"))):
                self.fields[f"scope_{object_type}_{kind}"] = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=scope_choices,
                    widget=forms.Select(attrs={**SELECT, "class": "form-select form-select-sm"}),
                )

    def scope_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "key": object_type,
                "label": label,
                "read": self[f"scope_{object_type}_read"],
                "write": self[f"scope_{object_type}_write"],
            }
            for object_type, label in SCOPED_OBJECT_TYPES.items()
        ]

    def scopes(self) -> dict[str, dict[str, str] | None]:
        """RoleScope rows wanted: both read and write set, or neither (= the defaults)."""
        out: dict[str, dict[str, str] | None] = {}
        for object_type in SCOPED_OBJECT_TYPES:
            read = self.cleaned_data.get(f"scope_{object_type}_read") or ""
            write = self.cleaned_data.get(f"scope_{object_type}_write") or ""
            if not read and not write:
                out[object_type] = None
            else:
                out[object_type] = {
                    "read": read or self.cleaned_data["read_scope"],
                    "write": write or self.cleaned_data["write_scope"],
                }
        return out

    def role_data(self) -> dict[str, Any]:
        keys = ("code", "name", "description", "read_scope", "write_scope", "require_2fa")
        return {k: self.cleaned_data[k] for k in keys}
