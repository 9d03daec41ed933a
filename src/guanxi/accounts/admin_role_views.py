"""系统设置 → 角色管理: the roles, and the editor (permissions per object type grouped as
basic / advanced / sensitive, default data scopes, per-object-type scopes, 2FA)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.accounts import selectors, services
from guanxi.accounts.admin_forms import RoleForm
from guanxi.accounts.admin_views import confirm_delete, get_or_404, guard, meta, run
from guanxi.accounts.models import Role
from guanxi.accounts.permission_catalog import (
    ADVANCED,
    BASIC,
    GROUP_LABELS,
    SENSITIVE,
    catalog,
    catalog_index,
)
from guanxi.core.scopes import SCOPE_CHOICES, SCOPED_OBJECT_TYPES

MSG_SAVED = _("角色“%(name)s”已保存")
MSG_DELETED = _("角色“%(name)s”已删除")
GROUPS = (BASIC, ADVANCED, SENSITIVE)


def _role(request: HttpRequest, pk: int) -> Role:
    return get_or_404(selectors.role_get, request, pk)


@login_required
@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    guard(request, "accounts.view_role")
    index = catalog_index()
    scope_labels = dict(SCOPE_CHOICES)
    rows = []
    for role in selectors.role_queryset(actor=request.user):
        counts = dict.fromkeys(GROUPS, 0)
        for perm in role.permissions.all():
            entry = index.get(perm.pk)
            counts[entry.group if entry else ADVANCED] += 1
        custom = [
            (SCOPED_OBJECT_TYPES.get(s.object_type, s.object_type), s) for s in role.scopes.all()
        ]
        rows.append(
            {
                "role": role,
                "counts": [(GROUP_LABELS[g], counts[g]) for g in GROUPS],
                "read": scope_labels.get(role.read_scope),
                "write": scope_labels.get(role.write_scope),
                "custom_scopes": custom,
            }
        )
    user = request.user
    return render(
        request,
        "accounts/admin/roles.html",
        {
            "rows": rows,
            "scope_labels": scope_labels,
            "can_add": user.has_perm("accounts.add_role"),
            "can_change": user.has_perm("accounts.change_role"),
            "can_delete": user.has_perm("accounts.delete_role"),
        },
    )


def _editor(request: HttpRequest, role: Role | None) -> HttpResponse:
    entries = catalog()
    ids = [p.permission.pk for e in entries for p in e.all()]
    shown = set(ids)
    initial: dict[str, Any] = {"read_scope": "own", "write_scope": "own"}
    if role is not None:
        initial = {
            "code": role.code,
            "name": role.name,
            "description": role.description,
            "read_scope": role.read_scope,
            "write_scope": role.write_scope,
            "require_2fa": role.require_2fa,
            "permissions": [str(p.pk) for p in role.permissions.all() if p.pk in shown],
        }
        for scope in role.scopes.all():
            initial[f"scope_{scope.object_type}_read"] = scope.read_scope
            initial[f"scope_{scope.object_type}_write"] = scope.write_scope
    form = RoleForm(
        request.POST or None, initial=initial, permission_ids=ids, editing=role is not None
    )
    if request.method == "POST" and form.is_valid():
        chosen = {int(pk) for pk in form.cleaned_data["permissions"]}
        # Permissions the editor does not show (none are in the catalog) are kept as they are.
        hidden = {p.pk for p in role.permissions.all() if p.pk not in shown} if role else set()
        saved = run(
            form,
            lambda: services.role_save(
                actor=request.user,
                role=role,
                data=form.role_data(),
                permissions=sorted(chosen | hidden),
                scopes=form.scopes(),
                meta=meta(request),
            ),
        )
        if saved is not None:
            messages.success(request, MSG_SAVED % {"name": saved.name})
            return redirect("org:roles")
    selected = set(form["permissions"].value() or [])
    groups = [
        {
            "key": entry.key,
            "label": entry.label,
            "columns": [
                {
                    "group": group,
                    "label": GROUP_LABELS[group],
                    "perms": [
                        {
                            "id": str(p.permission.pk),
                            "label": p.label,
                            "dotted": p.dotted,
                            "checked": str(p.permission.pk) in selected,
                        }
                        for p in entry.groups[group]
                    ],
                }
                for group in GROUPS
            ],
        }
        for entry in entries
    ]
    return render(
        request,
        "accounts/admin/role_form.html",
        {"form": form, "role": role, "groups": groups, "group_labels": GROUP_LABELS},
        status=422 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def role_create(request: HttpRequest) -> HttpResponse:
    guard(request, "accounts.add_role")
    return _editor(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.change_role")
    return _editor(request, _role(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    guard(request, "accounts.delete_role")
    role = _role(request, pk)
    return confirm_delete(
        request,
        title=_("删除角色"),
        text=_("确认删除角色“%(name)s”？系统内置角色和仍有用户使用的角色不能删除。")
        % {"name": role.name},
        back="org:roles",
        call=lambda: services.role_delete(actor=request.user, role=role, meta=meta(request)),
        done=MSG_DELETED % {"name": role.name},
    )
