"""Every read of the organisation (departments, users, roles) for pages, API and exports.

Each selector starts with the permission check, so no caller can forget it: a user without
``accounts.view_user`` gets PermissionDenied (403), never a list. Users and departments are
not split by data scope (the organisation is visible to whoever administers it); an unknown
id is NotFound (404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Count, Prefetch, Q, QuerySet

from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import Department, Role, RoleScope, User
from guanxi.accounts.sessions import user_sessions
from guanxi.accounts.user_filters import UserFilter, clean_ordering
from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound
from guanxi.core.masking import mask
from guanxi.core.pagination import Page, paginate
from guanxi.core.permissions import require_perm

COUNT_CAP = 10_000


# --- departments ------------------------------------------------------------------------


def department_queryset(*, actor: Any) -> QuerySet:
    """Departments with their manager and the number of live members."""
    require_perm(actor, "accounts.view_department")
    return Department.objects.select_related("manager").annotate(
        member_count=Count("members", filter=~Q(members__status=UserStatus.DELETED))
    )


def department_get(*, actor: Any, pk: Any) -> Department:
    try:
        return department_queryset(actor=actor).get(pk=int(pk))
    except (Department.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound() from exc


@dataclass
class TreeNode:
    department: Department
    depth: int
    has_children: bool
    # Live members of the department and all below it: what its link to the user list
    # (which includes sub-departments) shows.
    total_members: int = 0


def department_tree(*, actor: Any) -> list[TreeNode]:
    """The whole tree in display order (siblings by sort, then name), one query."""
    rows = list(department_queryset(actor=actor))
    children: dict[int | None, list[Department]] = {}
    for dept in rows:
        children.setdefault(dept.parent_id, []).append(dept)
    for siblings in children.values():
        siblings.sort(key=lambda d: (d.sort, d.name, d.pk))
    out: list[TreeNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for dept in children.get(parent_id, []):
            out.append(TreeNode(dept, depth, dept.pk in children))
            walk(dept.pk, depth + 1)

    walk(None, 0)
    totals = {node.department.pk: node.department.member_count for node in out}
    for node in reversed(out):  # children come after their parent: add them bottom-up
        parent_id = node.department.parent_id
        if parent_id in totals:
            totals[parent_id] += totals[node.department.pk]
    for node in out:
        node.total_members = totals[node.department.pk]
    return out


def department_choices_with_paths() -> list[tuple[int, str, str]]:
    """(id, "总公司 / 销售部 / 销售一组", path) in tree order, for selects (one query)."""
    rows = list(Department.objects.only("id", "name", "parent_id", "path", "sort"))
    names = {d.pk: d.name for d in rows}
    sorts = {d.pk: (d.sort, d.name, d.pk) for d in rows}

    def chain(dept: Department) -> list[int]:
        return [int(i) for i in dept.path.strip("/").split("/") if i]

    rows.sort(key=lambda d: [sorts.get(i, (0, "", i)) for i in chain(d)])
    return [(d.pk, " / ".join(names.get(i, "?") for i in chain(d)), d.path) for d in rows]


def department_choices() -> list[tuple[int, str]]:
    return [(pk, label) for pk, label, _path in department_choices_with_paths()]


# --- users ------------------------------------------------------------------------------


def user_queryset(*, actor: Any) -> QuerySet:
    require_perm(actor, "accounts.view_user")
    return User.objects.select_related("department").prefetch_related(
        Prefetch("roles", queryset=Role.objects.only("id", "code", "name"))
    )


def user_filter(*, actor: Any, params: Mapping[str, Any]) -> UserFilter:
    return UserFilter(params, queryset=user_queryset(actor=actor), actor=actor)


def user_list(
    *, actor: Any, params: Mapping[str, Any], cursor: str | None = None, limit: int = 50
) -> Page:
    """One page of users as the list page and the API show it."""
    filterset = user_filter(actor=actor, params=params)
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    return paginate(qs, ordering=clean_ordering(params.get("ordering")), cursor=cursor, limit=limit)


def user_count(*, actor: Any, params: Mapping[str, Any], cap: int = COUNT_CAP) -> int:
    filterset = user_filter(actor=actor, params=params)
    if not filterset.is_valid():
        return 0
    return filterset.qs.order_by().values("pk")[: cap + 1].count()


def user_export_rows(*, actor: Any, params: Mapping[str, Any]) -> QuerySet:
    """Every user matching the list filters, for the export (the same filter as the list)."""
    require_perm(actor, "accounts.export_user")
    filterset = user_filter(actor=actor, params=params)
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    return qs.order_by(clean_ordering(params.get("ordering")), "id")


def user_get(*, actor: Any, pk: Any) -> User:
    try:
        return user_queryset(actor=actor).get(pk=int(pk))
    except (User.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound() from exc


def can_view_sensitive_user(actor: Any, user: User) -> bool:
    """People see their own mobile and e-mail; others need the sensitive permission."""
    return actor.pk == user.pk or actor.has_perm("accounts.view_sensitive_user")


PERSONAL_FIELDS = ("mobile", "email")


def user_personal_values(actor: Any, user: User) -> dict[str, str]:
    """Mobile and e-mail as ``actor`` may see them: in full or masked, by one rule."""
    full = can_view_sensitive_user(actor, user)
    return {
        f: (getattr(user, f) or "") if full else mask(f, getattr(user, f) or "")
        for f in PERSONAL_FIELDS
    }


def user_history(*, actor: Any, user: User, limit: int = 30) -> list[AuditEntry]:
    """What was done to this account, newest first (from the audit log)."""
    require_perm(actor, "accounts.view_user")
    return list(
        AuditEntry.objects.filter(object_type="user", object_id=str(user.pk))
        .select_related("actor")
        .order_by("-id")[:limit]
    )


def sessions_of(*, actor: Any, user: User) -> list[Any]:
    require_perm(actor, "accounts.view_user")
    return list(user_sessions(user))


def assignable_users() -> QuerySet:
    """Live users for manager pickers."""
    return (
        User.objects.filter(is_active=True)
        .exclude(status=UserStatus.DELETED)
        .only("id", "username", "name")
        .order_by("name", "username")
    )


# --- roles ------------------------------------------------------------------------------


def role_queryset(*, actor: Any) -> QuerySet:
    """Roles with permissions, scope rows and the number of live holders (three queries)."""
    require_perm(actor, "accounts.view_role")
    return (
        Role.objects.annotate(
            user_count=Count("users", filter=~Q(users__status=UserStatus.DELETED))
        )
        .prefetch_related(
            Prefetch("permissions", queryset=Permission.objects.select_related("content_type")),
            Prefetch("scopes", queryset=RoleScope.objects.order_by("object_type")),
        )
        .order_by("id")
    )


def role_get(*, actor: Any, pk: Any) -> Role:
    try:
        return role_queryset(actor=actor).get(pk=int(pk))
    except (Role.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound() from exc


def role_choices() -> list[tuple[str, str]]:
    return list(Role.objects.order_by("id").values_list("code", "name"))
