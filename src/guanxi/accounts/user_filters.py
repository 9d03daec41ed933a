"""The one filter definition of the user list: the admin page, the API and the export."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import Department, User

ORDERINGS = ("id", "-id", "username", "-username", "name", "-name", "date_joined", "-date_joined")
DEFAULT_ORDERING = "id"


def clean_ordering(value: Any) -> str:
    """Only allow-listed orderings reach the ORM."""
    return value if value in ORDERINGS else DEFAULT_ORDERING


class UserFilter(django_filters.FilterSet):
    """``q`` searches username, name, employee number and e-mail (and mobile for those who
    may see it); a department includes its sub-departments; deleted users only on request."""

    q = django_filters.CharFilter(method="search", label=_("搜索"), max_length=100)
    department_id = django_filters.NumberFilter(
        method="in_department", label=_("部门"), min_value=1, max_value=2**62
    )
    status = django_filters.ChoiceFilter(
        choices=UserStatus.choices, method="with_status", label=_("状态")
    )
    role = django_filters.CharFilter(method="with_role", label=_("角色"), max_length=32)

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor

    @property
    def qs(self) -> QuerySet:
        qs = super().qs
        if not self.form.cleaned_data.get("status"):
            qs = qs.exclude(status=UserStatus.DELETED)
        return qs

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        cond = (
            Q(username__icontains=value)
            | Q(name__icontains=value)
            | Q(employee_no__icontains=value)
            | Q(email__icontains=value)
        )
        if self.actor is not None and self.actor.has_perm("accounts.view_sensitive_user"):
            cond |= Q(mobile__contains=value)
        return qs.filter(cond)

    def in_department(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        dept = Department.objects.filter(pk=int(value)).only("path").first()
        if dept is None:
            return qs.none()
        return qs.filter(department__path__startswith=dept.path)

    def with_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(status=value) if value else qs

    def with_role(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        through = User.roles.through.objects.filter(user_id=OuterRef("pk"), role__code=value)
        return qs.filter(Exists(through))
