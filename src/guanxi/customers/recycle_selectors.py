"""Reads of the customer recycle bin: deleted customers in the caller's read scope.

Seeing the bin takes ``customers.delete_customer`` (whoever may put a customer there may see
what is there); the data scope then decides which deleted customers are listed, exactly as
for live ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, paginate
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Customer
from guanxi.customers.search import apply_customer_search
from guanxi.ops.parameters import system_parameter

BIN_PERMISSION = "customers.delete_customer"
BIN_ORDERING = "-deleted_at"


def retention_days() -> int:
    """Days a deleted customer stays in the bin before the job purges it; 0 keeps it forever."""
    return max(0, int(system_parameter("recycle_bin_days")))  # 系统参数, else settings


def purge_after(deleted_at: dt.datetime | None) -> dt.datetime | None:
    """When the retention job may purge a customer deleted at ``deleted_at`` (None: never)."""
    days = retention_days()
    if deleted_at is None or days == 0:
        return None
    return deleted_at + dt.timedelta(days=days)


def days_left(deleted_at: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    """Whole days until the purge (0 once due), None when nothing purges automatically."""
    due = purge_after(deleted_at)
    if due is None:
        return None
    return max(0, (due - (now or timezone.now())).days)


class RecycleBinFilter(django_filters.FilterSet):
    """The bin's filters, shared by the page and the API list."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("搜索"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("客户名称、联系人、拼音或客户编号")}),
    )
    owner_id = django_filters.NumberFilter(
        field_name="owner_id", label=_("负责人"), min_value=1, max_value=2**63 - 1
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return apply_customer_search(queryset, value)


def recycle_bin_queryset(user: Any) -> QuerySet:
    """Deleted customers in ``user``'s read scope; PermissionDenied (403) without the bin
    permission, whatever the scope, so the answer never depends on which ids exist."""
    require_perm(user, BIN_PERMISSION)
    return Customer.objects.in_bin().restrict(user, "view").select_related("owner", "deleted_by")


def recycle_bin_filter(user: Any, params: Mapping[str, Any]) -> RecycleBinFilter:
    return RecycleBinFilter(params, queryset=recycle_bin_queryset(user))


def recycle_bin_list(
    *, user: Any, params: Mapping[str, Any], cursor: str | None = None, limit: int = 50
) -> Page:
    """One keyset page of the bin, most recently deleted first."""
    filterset = recycle_bin_filter(user, params)
    qs = filterset.qs if filterset.is_valid() else recycle_bin_queryset(user).none()
    return paginate(qs, ordering=BIN_ORDERING, cursor=cursor, limit=limit)


def recycle_bin_get(*, user: Any, pk: Any) -> Customer:
    """One deleted customer in scope, or NotFound (live, missing and out-of-scope alike)."""
    try:
        return recycle_bin_queryset(user).get(pk=int(pk))
    except (Customer.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc
