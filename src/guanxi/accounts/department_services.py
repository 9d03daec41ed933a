"""Writes to the department tree: create, rename, move (re-pathing the subtree), delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import Department, User
from guanxi.accounts.service_support import check_perm, diff, lock_row
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DeleteRefused
from guanxi.core.field_errors import FieldErrors
from guanxi.core.validators import fold_text

MSG_REQUIRED = _("此项为必填项")
MSG_NAME_TOO_LONG = _("部门名称不能超过64个字符")
MSG_NAME_TAKEN = _("同一上级部门下已有名为“%(name)s”的部门")
MSG_PARENT_MISSING = _("上级部门不存在")
MSG_PARENT_CYCLE = _("不能把部门移动到它自己或它的下级部门之下")
MSG_MANAGER_MISSING = _("负责人不存在或已停用")
MSG_SORT_INVALID = _("排序必须是0到99999之间的整数")
MSG_HAS_CHILDREN = _("部门“%(name)s”下还有 %(count)s 个下级部门，请先移动或删除下级部门")
MSG_HAS_MEMBERS = _("部门“%(name)s”下还有 %(count)s 名成员，请先调整他们的部门")
MSG_REFERENCED = _("部门“%(name)s”仍被其他记录引用（%(what)s），不能删除")

AUDITED_FIELDS = ("name", "parent_id", "manager_id", "sort", "path")


def snapshot(dept: Department) -> dict[str, Any]:
    return {f: getattr(dept, f) for f in AUDITED_FIELDS}


def _resolve_parent(value: Any) -> Department | None:
    if value in (None, ""):
        return None
    if isinstance(value, Department):
        return value
    try:
        return Department.objects.get(pk=int(value))
    except (Department.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise ValidationError({"parent_id": [MSG_PARENT_MISSING]}) from exc


def _resolve_manager(value: Any) -> User | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, User) else value
    try:
        return User.objects.exclude(status=UserStatus.DELETED).get(pk=int(pk), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise ValidationError({"manager_id": [MSG_MANAGER_MISSING]}) from exc


def _clean_name(value: Any) -> str:
    name = " ".join(fold_text(str(value or "")).split())
    if not name:
        raise ValidationError({"name": [MSG_REQUIRED]})
    if len(name) > 64:
        raise ValidationError({"name": [MSG_NAME_TOO_LONG]})
    return name


def _clean_sort(value: Any) -> int:
    try:
        sort = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"sort": [MSG_SORT_INVALID]}) from exc
    if not 0 <= sort <= 99999:
        raise ValidationError({"sort": [MSG_SORT_INVALID]})
    return sort


def _ensure_unique_name(name: str, parent: Department | None, exclude: int | None) -> None:
    siblings = Department.objects.filter(parent=parent, name=name)
    if exclude:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": name}]})


@audited_refusals("department.create")
def department_create(
    *,
    name: str,
    parent: Department | int | None = None,
    manager: User | int | None = None,
    sort: int = 0,
    actor: Any = None,
    meta: RequestMeta | None = None,
) -> Department:
    """Create a department and set its materialised path ("/1/4/") for subtree queries."""
    check_perm(actor, "accounts.add_department")
    errors = FieldErrors()  # every bad field reported at once
    clean_name = errors.check(_clean_name, name)
    parent_obj = errors.check(_resolve_parent, parent)
    manager_obj = errors.check(_resolve_manager, manager)
    clean_sort = errors.check(_clean_sort, sort)
    errors.raise_if_any()
    _ensure_unique_name(clean_name, parent_obj, None)
    with transaction.atomic():
        dept = Department.objects.create(
            name=clean_name, parent=parent_obj, manager=manager_obj, sort=clean_sort
        )
        dept.path = f"{parent_obj.path if parent_obj else '/'}{dept.pk}/"
        dept.save(update_fields=["path"])
        audit_record(
            actor=actor,
            action="department.create",
            obj=dept,
            changes=diff({}, snapshot(dept)),
            meta=meta,
        )
    return dept


def _move_subtree(dept: Department, new_parent: Department | None) -> None:
    """Re-path ``dept`` and everything below it (one read, one bulk update)."""
    old_prefix = dept.path
    new_prefix = f"{new_parent.path if new_parent else '/'}{dept.pk}/"
    subtree = list(
        Department.objects.select_for_update()
        .filter(path__startswith=old_prefix)
        .exclude(pk=dept.pk)
    )
    for node in subtree:
        node.path = new_prefix + node.path[len(old_prefix) :]
    Department.objects.bulk_update(subtree, ["path"])
    dept.parent = new_parent
    dept.path = new_prefix


@audited_refusals("department.update", target="department")
def department_update(
    *,
    actor: Any,
    department: Department,
    data: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> Department:
    """Rename, re-sort, change the manager, or move under another parent (no cycles)."""
    check_perm(actor, "accounts.change_department")
    with transaction.atomic():
        current = lock_row(department)
        before = snapshot(current)
        errors = FieldErrors()
        name = errors.check(_clean_name, data["name"]) if "name" in data else current.name
        if "parent_id" in data:
            parent = errors.check(_resolve_parent, data["parent_id"])
            if parent is not None and parent.path.startswith(current.path):
                errors.add("parent_id", MSG_PARENT_CYCLE)
        else:
            parent = current.parent
        if "manager_id" in data:
            current.manager = errors.check(_resolve_manager, data["manager_id"])
        if "sort" in data:
            current.sort = errors.check(_clean_sort, data["sort"])
        errors.raise_if_any()
        _ensure_unique_name(name, parent, current.pk)
        current.name = name
        if (parent.pk if parent else None) != current.parent_id:
            _move_subtree(current, parent)
        changes = diff(before, snapshot(current))
        if changes:
            current.save()
            audit_record(
                actor=actor, action="department.update", obj=current, changes=changes, meta=meta
            )
    return current


@audited_refusals("department.delete", target="department")
def department_delete(
    *, actor: Any, department: Department, meta: RequestMeta | None = None
) -> None:
    """Delete an empty leaf department. Soft-deleted former members are detached (their
    history stays in the audit log); live members and children refuse the delete."""
    check_perm(actor, "accounts.delete_department")
    with transaction.atomic():
        current = lock_row(department)
        children = Department.objects.filter(parent=current).count()
        if children:
            raise DeleteRefused(
                MSG_HAS_CHILDREN % {"name": current.name, "count": children}, reason="children"
            )
        members = User.objects.filter(department=current).exclude(status=UserStatus.DELETED).count()
        if members:
            raise DeleteRefused(
                MSG_HAS_MEMBERS % {"name": current.name, "count": members}, reason="members"
            )
        detached = list(
            User.objects.filter(department=current, status=UserStatus.DELETED).values_list(
                "pk", flat=True
            )
        )
        User.objects.filter(pk__in=detached).update(department=None)
        before = snapshot(current)
        pk, repr_ = current.pk, str(current)
        try:
            with transaction.atomic():
                current.delete()
        except (ProtectedError, RestrictedError) as exc:
            found = (
                exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
            )
            what = "、".join(sorted({str(o._meta.verbose_name) for o in found}))
            raise DeleteRefused(
                MSG_REFERENCED % {"name": repr_, "what": what}, reason="referenced"
            ) from exc
        audit_record(
            actor=actor,
            action="department.delete",
            object_type="department",
            object_id=pk,
            object_repr=repr_,
            changes=diff(before, {}),
            params={"detached_deleted_users": detached} if detached else {},
            meta=meta,
        )
