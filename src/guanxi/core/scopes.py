"""The one place that turns (user, model, action) into a row filter.

Scopes: own records / own department / own department and below / all — per role and object
type (``accounts.RoleScope``, falling back to the role's defaults), separately for reading and
writing. The widest scope among a user's roles wins. Every business read goes through
``ScopedQuerySet.restrict`` which calls ``scope_q``; a model names its object type with
``scope_object_type`` (default: its model name).
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
# Object types whose data scope a role sets separately (RoleScope rows); apps add theirs here.
SCOPED_OBJECT_TYPES: dict[str, Any] = {
    "customer": _("客户"),
    "contract": _("合同"),
    "order": _("订单"),
}
_RANK = {OWN: 1, DEPARTMENT: 2, DEPARTMENT_TREE: 3, ALL: 4}
NOTHING = Q(pk__in=[])


def object_type_of(model: type[Model]) -> str:
    """The object type a model's rows are scoped as (``scope_object_type``, else its name)."""
    return getattr(model, "scope_object_type", None) or model._meta.model_name


def _role_scopes(user: Any) -> list[tuple[str, str, dict[str, tuple[str, str]]]]:
    """Every role of ``user`` as (read, write, {object_type: (read, write)}), in one query.

    Cached on the user object, which lives for one request only, so an admin's change to a
    role applies from the next request on.
    """
    cached = getattr(user, "_guanxi_role_scopes", None)
    if cached is None:
        roles: dict[int, tuple[str, str, dict[str, tuple[str, str]]]] = {}
        rows = user.roles.values_list(
            "pk",
            "read_scope",
            "write_scope",
            "scopes__object_type",
            "scopes__read_scope",
            "scopes__write_scope",
        )
        for pk, read, write, object_type, type_read, type_write in rows:
            role = roles.setdefault(pk, (read, write, {}))
            if object_type:
                role[2][object_type] = (type_read, type_write)
        cached = list(roles.values())
        user._guanxi_role_scopes = cached
    return cached


def effective_scope(user: Any, action: str, object_type: str | None = None) -> str | None:
    """Widest scope among the user's roles for ``object_type``: the read scope for "view",
    the write scope for anything else (add, change, delete, status ...).

    A role's RoleScope row for the object type wins over its default scopes; without an
    object type only the defaults count. None means "no rows at all".
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ALL
    kind = 0 if action == "view" else 1  # index into (read, write)
    cache = getattr(user, "_guanxi_scope_cache", None)
    if cache is None:
        cache = {}
        user._guanxi_scope_cache = cache
    key = (kind, object_type)
    if key not in cache:
        best: str | None = None
        for read, write, per_type in _role_scopes(user):
            scope = per_type.get(object_type or "", (read, write))[kind]
            if scope in _RANK and (best is None or _RANK[scope] > _RANK[best]):
                best = scope
        cache[key] = best
    return cache[key]


def scope_covers(user: Any, model: type[Model], action: str, within: str = "view") -> bool:
    """Whether ``user``'s scope for ``action`` reaches every row their ``within`` scope does
    (each scope holds the narrower ones), so a row already found for ``within`` needs no
    second query to know it is inside ``action``'s scope too."""
    object_type = object_type_of(model)
    wide = effective_scope(user, action, object_type)
    narrow = effective_scope(user, within, object_type)
    return wide is not None and (narrow is None or _RANK[wide] >= _RANK[narrow])


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


def scope_members(
    user: Any, model: type[Model], action: str = "view"
) -> tuple[list[int], list[int]]:
    """The owner ids and department ids whose rows make up ``user``'s scope for ``action``
    (the same rows ``scope_q`` filters to); two empty lists when the scope is every row or
    none. Lets an index that holds owner and department narrow to the scope by itself."""
    scope = effective_scope(user, action, object_type_of(model))
    if scope is None or scope == ALL:
        return [], []
    if scope == OWN:
        return [user.pk], []
    return [user.pk], department_ids(user, with_descendants=scope == DEPARTMENT_TREE)


def scope_q(user: Any, model: type[Model], action: str = "view") -> Q | None:
    """Filter for the rows ``user`` may touch with ``action``; None means every row."""
    scope = effective_scope(user, action, object_type_of(model))
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
