"""The one place that turns (user, model, action) into a row filter.

Scopes: own records / own department / own department and below / all — per role, separately
for reading and writing. The widest scope among a user's roles wins. Every business read
goes through ``ScopedQuerySet.restrict`` which calls ``scope_q``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q
from django.utils.translation import gettext_lazy as _

OWN = "own"
DEPARTMENT = "department"
DEPARTMENT_TREE = "department_tree"
ALL = "all"
SCOPE_CHOICES = [
    (OWN, _("本人")),
    (DEPARTMENT, _("本部门")),
    (DEPARTMENT_TREE, _("本部门及下级")),
    (ALL, _("全部")),
]
_RANK = {OWN: 1, DEPARTMENT: 2, DEPARTMENT_TREE: 3, ALL: 4}
NOTHING = Q(pk__in=[])


def effective_scope(user: Any, action: str) -> str | None:
    """Widest scope among the user's roles for reading ("view") or writing (anything else)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ALL
    cache_attr = "_guanxi_scope_cache"
    cache = getattr(user, cache_attr, None)
    if cache is None:
        cache = {}
        setattr(user, cache_attr, cache)
    kind = "read" if action == "view" else "write"
    if kind not in cache:
        best: str | None = None
        for role in user.roles.all():
            scope = role.read_scope if kind == "read" else role.write_scope
            if best is None or _RANK[scope] > _RANK[best]:
                best = scope
        cache[kind] = best
    return cache[kind]


def department_ids(user: Any, *, with_descendants: bool) -> list[int]:
    """The user's department, and optionally every department below it."""
    from guanxi.accounts.models import Department

    dept = user.department
    if dept is None:
        return []
    if not with_descendants:
        return [dept.pk]
    # Cached on the user object, which lives for one request only.
    cached = getattr(user, "_guanxi_dept_tree", None)
    if cached is None:
        cached = list(
            Department.objects.filter(path__startswith=dept.path).values_list("pk", flat=True)
        )
        user._guanxi_dept_tree = cached
    return cached


def scope_q(user: Any, model: type[Model], action: str = "view") -> Q | None:
    """Filter for the rows ``user`` may touch with ``action``; None means every row."""
    scope = effective_scope(user, action)
    if scope is None:
        return NOTHING
    if scope == ALL:
        return None
    owner = model.scope_owner_field
    dept = model.scope_department_field
    if scope == OWN:
        return Q(**{f"{owner}_id": user.pk})
    ids = department_ids(user, with_descendants=scope == DEPARTMENT_TREE)
    # A user always keeps their own records, even when filed under another department.
    return Q(**{f"{dept}_id__in": ids}) | Q(**{f"{owner}_id": user.pk})
