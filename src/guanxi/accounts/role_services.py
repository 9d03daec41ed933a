"""Writes to roles: their fields, their permission set and their per-object-type data scopes.

Every change is an audit entry with before/after and counts toward the anomaly alert. Nobody
can grant a permission they do not hold themselves, so ``change_role`` alone is not a way to
become admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.anomaly import check_role_change_burst
from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import Role, RoleScope
from guanxi.accounts.permission_catalog import dotted
from guanxi.accounts.service_support import check_perm, diff, lock_row
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DeleteRefused, PermissionDenied
from guanxi.core.field_errors import FieldErrors
from guanxi.core.ids import parse_id
from guanxi.core.scopes import SCOPE_CHOICES, SCOPED_OBJECT_TYPES
from guanxi.core.validators import fold_text

MSG_REQUIRED = _("此项为必填项")
MSG_CODE_FORMAT = _("角色编码须为2至32个字符，以小写字母开头，只能包含小写字母、数字和下划线")
MSG_CODE_TAKEN = _("角色编码“%(value)s”已存在")
MSG_CODE_FIXED = _("角色编码创建后不可修改")
MSG_NAME_TAKEN = _("角色名称“%(value)s”已存在")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_SCOPE_INVALID = _("“%(value)s”不是有效的数据范围")
MSG_OBJECT_TYPE_INVALID = _("“%(value)s”不是可设置数据范围的对象类型")
MSG_PERMISSION_INVALID = _("权限“%(value)s”不存在")
MSG_GRANT_FORBIDDEN = _("您不能授予自己没有的权限：%(perms)s")
MSG_SYSTEM_ROLE = _("“%(name)s”是系统内置角色，可以修改但不能删除")
MSG_ROLE_IN_USE = _("角色“%(name)s”仍有 %(count)s 名用户在使用，请先取消这些用户的该角色")

_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_SCOPES = {value for value, _label in SCOPE_CHOICES}
ROLE_FIELDS = ("code", "name", "description", "read_scope", "write_scope", "require_2fa")


def role_snapshot(role: Role) -> dict[str, Any]:
    return {f: getattr(role, f) for f in ROLE_FIELDS}


def scope_map(role: Role) -> dict[str, dict[str, str]]:
    """{object_type: {"read": scope, "write": scope}} of the role's RoleScope rows."""
    return {
        s.object_type: {"read": s.read_scope, "write": s.write_scope}
        for s in RoleScope.objects.filter(role=role).order_by("object_type")
    }


def _clean_role_fields(data: Mapping[str, Any], current: Role | None) -> dict[str, Any]:
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    for field in ROLE_FIELDS:
        if field not in data and not (current is None and field in ("code", "name")):
            continue
        with errors.collect(field):
            cleaned[field] = _clean_role_field(field, data.get(field), current)
    errors.raise_if_any()
    return cleaned


def _clean_role_field(field: str, value: Any, current: Role | None) -> Any:
    if field == "require_2fa":
        return bool(value)
    text = " ".join(fold_text(str(value if value is not None else "")).split())
    if field == "code":
        if current is not None:
            if text != current.code:
                raise ValidationError(MSG_CODE_FIXED)
            return current.code
        if not _CODE_RE.fullmatch(text):
            raise ValidationError(MSG_CODE_FORMAT)
        if Role.objects.filter(code=text).exists():
            raise ValidationError(MSG_CODE_TAKEN % {"value": text})
        return text
    if field in ("read_scope", "write_scope"):
        if text not in _SCOPES:
            raise ValidationError(MSG_SCOPE_INVALID % {"value": text})
        return text
    limit = 64 if field == "name" else 255
    if field == "name" and not text:
        raise ValidationError(MSG_REQUIRED)
    if len(text) > limit:
        raise ValidationError(MSG_TOO_LONG % {"max": limit})
    if field == "name":
        taken = Role.objects.filter(name=text)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            raise ValidationError(MSG_NAME_TAKEN % {"value": text})
    return text


def resolve_permissions(values: Iterable[Any]) -> list[Permission]:
    """Permissions from objects, ids or "app.codename" strings."""
    ids: set[int] = set()
    names: set[tuple[str, str]] = set()
    for value in values:
        if isinstance(value, Permission):
            ids.add(value.pk)
        elif (wanted := parse_id(value)) is not None:
            ids.add(wanted)
        elif "." in str(value):
            app_label, codename = str(value).split(".", 1)
            names.add((app_label, codename))
        else:
            raise ValidationError({"permissions": [MSG_PERMISSION_INVALID % {"value": value}]})
    wanted = Q(pk__in=ids)
    for app_label, codename in names:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    found = {p.pk: p for p in Permission.objects.select_related("content_type").filter(wanted)}
    known = {(p.content_type.app_label, p.codename) for p in found.values()}
    missing = [f"{a}.{c}" for a, c in sorted(names - known)] + sorted(ids - found.keys())
    if missing:
        raise ValidationError({"permissions": [MSG_PERMISSION_INVALID % {"value": missing[0]}]})
    return list(found.values())


def ensure_may_grant(actor: Any, perms: Iterable[str]) -> None:
    """Refuse granting what the actor does not hold (system calls and superusers may)."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    missing = sorted(set(perms) - actor.get_all_permissions())
    if missing:
        raise PermissionDenied(MSG_GRANT_FORBIDDEN % {"perms": "、".join(missing)})


def _clean_scopes(scopes: Mapping[str, Any]) -> dict[str, dict[str, str] | None]:
    """{object_type: {"read_scope"/"read", "write_scope"/"write"} | None (use the default)}."""
    errors = FieldErrors()
    cleaned: dict[str, dict[str, str] | None] = {}
    for object_type, value in scopes.items():
        if object_type not in SCOPED_OBJECT_TYPES:
            errors.add("scopes", MSG_OBJECT_TYPE_INVALID % {"value": object_type})
            continue
        if value is None:
            cleaned[object_type] = None
            continue
        read = value.get("read_scope", value.get("read"))
        write = value.get("write_scope", value.get("write"))
        for scope in (read, write):
            if scope not in _SCOPES:
                errors.add("scopes", MSG_SCOPE_INVALID % {"value": scope})
        cleaned[object_type] = {"read": read, "write": write}
    errors.raise_if_any()
    return cleaned


def _apply_fields(actor: Any, role: Role, cleaned: Mapping[str, Any], meta: Any) -> bool:
    before = role_snapshot(role)
    for field, value in cleaned.items():
        setattr(role, field, value)
    changes = diff(before, role_snapshot(role))
    if changes:
        role.save()
        audit_record(actor=actor, action="role.update", obj=role, changes=changes, meta=meta)
    return bool(changes)


def _apply_permissions(actor: Any, role: Role, perms: list[Permission], meta: Any) -> bool:
    current = list(role.permissions.select_related("content_type"))
    before = sorted(dotted(p) for p in current)
    after = sorted(dotted(p) for p in perms)
    if before == after:
        return False
    added = sorted(set(after) - set(before))
    ensure_may_grant(actor, added)
    role.permissions.set(perms)
    audit_record(
        actor=actor,
        action="role.permissions",
        obj=role,
        changes={"permissions": [before, after]},
        params={"added": added, "removed": sorted(set(before) - set(after))},
        meta=meta,
    )
    return True


def _apply_scopes(
    actor: Any, role: Role, scopes: Mapping[str, dict[str, str] | None], meta: Any
) -> bool:
    before = scope_map(role)
    for object_type, value in scopes.items():
        if value is None:
            RoleScope.objects.filter(role=role, object_type=object_type).delete()
        else:
            RoleScope.objects.update_or_create(
                role=role,
                object_type=object_type,
                defaults={"read_scope": value["read"], "write_scope": value["write"]},
            )
    after = scope_map(role)
    if before == after:
        return False
    audit_record(
        actor=actor, action="role.scopes", obj=role, changes={"scopes": [before, after]}, meta=meta
    )
    return True


def role_save(
    *,
    actor: Any,
    role: Role | None = None,
    data: Mapping[str, Any],
    permissions: Iterable[Any] | None = None,
    scopes: Mapping[str, Any] | None = None,
    meta: RequestMeta | None = None,
) -> Role:
    """The role editor's one save: fields, permission set and data scopes in one
    transaction (one audit entry per part that changed). Creates when ``role`` is None."""
    action = "role.create" if role is None else "role.update"
    save = audited_refusals(action, target="role")(_role_save)
    return save(
        actor=actor, role=role, data=data, permissions=permissions, scopes=scopes, meta=meta
    )


def _role_save(
    *,
    actor: Any,
    role: Role | None,
    data: Mapping[str, Any],
    permissions: Iterable[Any] | None,
    scopes: Mapping[str, Any] | None,
    meta: RequestMeta | None,
) -> Role:
    check_perm(actor, "accounts.add_role" if role is None else "accounts.change_role")
    perms = resolve_permissions(permissions) if permissions is not None else None
    clean_scopes = _clean_scopes(scopes) if scopes is not None else None
    with transaction.atomic():
        if role is None:
            cleaned = _clean_role_fields(data, None)
            if perms:
                ensure_may_grant(actor, [dotted(p) for p in perms])
            current = Role.objects.create(**cleaned)
            audit_record(
                actor=actor,
                action="role.create",
                obj=current,
                changes=diff({}, role_snapshot(current)),
                meta=meta,
            )
        else:
            current = lock_row(role)
            _apply_fields(actor, current, _clean_role_fields(data, current), meta)
        if perms is not None:
            _apply_permissions(actor, current, perms, meta)
        if clean_scopes is not None:
            _apply_scopes(actor, current, clean_scopes, meta)
        check_role_change_burst(actor=actor, meta=meta)
    return current


def role_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    permissions: Iterable[Any] | None = None,
    scopes: Mapping[str, Any] | None = None,
    meta: RequestMeta | None = None,
) -> Role:
    """A new (non-system) role."""
    return role_save(
        actor=actor, role=None, data=data, permissions=permissions, scopes=scopes, meta=meta
    )


def role_update(
    *, actor: Any, role: Role, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> Role:
    """Name, description, default scopes, 2FA requirement (system roles too)."""
    return role_save(actor=actor, role=role, data=data, meta=meta)


def role_set_permissions(
    *, actor: Any, role: Role, permissions: Iterable[Any], meta: RequestMeta | None = None
) -> Role:
    return role_save(actor=actor, role=role, data={}, permissions=permissions, meta=meta)


def role_set_scopes(
    *, actor: Any, role: Role, scopes: Mapping[str, Any], meta: RequestMeta | None = None
) -> Role:
    return role_save(actor=actor, role=role, data={}, scopes=scopes, meta=meta)


@audited_refusals("role.delete", target="role")
def role_delete(*, actor: Any, role: Role, meta: RequestMeta | None = None) -> None:
    """Delete a custom role nobody (alive) holds; system roles are never deleted."""
    check_perm(actor, "accounts.delete_role")
    with transaction.atomic():
        current = lock_row(role)
        if current.is_system:
            raise DeleteRefused(MSG_SYSTEM_ROLE % {"name": current.name}, reason="system")
        holders = current.users.exclude(status=UserStatus.DELETED).count()
        if holders:
            raise DeleteRefused(
                MSG_ROLE_IN_USE % {"name": current.name, "count": holders}, reason="in_use"
            )
        former = list(current.users.values_list("pk", flat=True))
        before = role_snapshot(current)
        perms = sorted(dotted(p) for p in current.permissions.select_related("content_type"))
        pk, repr_ = current.pk, str(current)
        current.delete()
        audit_record(
            actor=actor,
            action="role.delete",
            object_type="role",
            object_id=pk,
            object_repr=repr_,
            changes=diff(before, {}),
            params={"permissions": perms, "removed_from_deleted_users": former},
            meta=meta,
        )
        check_role_change_burst(actor=actor, meta=meta)
