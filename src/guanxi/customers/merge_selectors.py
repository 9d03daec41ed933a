"""Reads for duplicates and merges: the duplicates report and merge records, in scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import NotFound
from guanxi.core.permissions import require_perm
from guanxi.customers.merge import MERGE_PERM
from guanxi.customers.models import Customer, CustomerMerge

# Report tabs: the column customers share, and its label.
REPORT_KEYS: dict[str, Any] = {
    "name_core": _("相似名称"),
    "mobile_bidx": _("手机号"),
    "phone_bidx": _("固定电话"),
    "email_bidx": _("邮箱"),
    "uscc_bidx": _("统一社会信用代码"),
}
GROUP_MEMBERS = 20
"""Customers shown per group (a group larger than this says how many more there are)."""


@dataclass
class DuplicateGroup:
    size: int
    members: list[Customer]


def duplicate_groups(
    user: Any, key: str, *, offset: int = 0, limit: int = 20
) -> tuple[list[DuplicateGroup], bool]:
    """Groups of live customers in ``user``'s scope sharing ``key``'s value, largest first;
    and whether more groups follow. For data admins (customers.merge_customer)."""
    require_perm(user, MERGE_PERM)
    if key not in REPORT_KEYS:
        raise NotFound()
    live = Customer.objects.alive().restrict(user, "view").exclude(**{key: ""})
    values = list(
        live.values(key)
        .annotate(size=Count("id"))
        .filter(size__gt=1)
        .order_by("-size", key)[offset : offset + limit + 1]
    )
    shown = [row[key] for row in values[:limit]]
    # The first GROUP_MEMBERS of every group in one query (not one per group).
    members: dict[str, list[Customer]] = {}
    ranked = (
        live.filter(**{f"{key}__in": shown})
        .annotate(rank=Window(RowNumber(), partition_by=F(key), order_by=F("id").asc()))
        .filter(rank__lte=GROUP_MEMBERS)
        .select_related("owner")
        .order_by(key, "id")
    )
    for customer in ranked:
        members.setdefault(getattr(customer, key), []).append(customer)
    groups = [
        DuplicateGroup(size=row["size"], members=members.get(row[key], []))
        for row in values[:limit]
    ]
    return groups, len(values) > limit


def merge_queryset(user: Any) -> Any:
    """Merges whose surviving customer the user may see (live or in the recycle bin)."""
    require_perm(user, "customers.view_customer")
    visible = Customer.objects.restrict(user, "view").values("pk")
    return CustomerMerge.objects.filter(survivor__in=visible).select_related(
        "survivor", "merged", "merged_by"
    )


def merge_get(user: Any, pk: Any) -> CustomerMerge:
    try:
        return merge_queryset(user).get(pk=int(pk))
    except (CustomerMerge.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def merges_into(user: Any, customer: Customer) -> list[CustomerMerge]:
    """The merges a customer survived, newest first (shown on its page)."""
    return list(merge_queryset(user).filter(survivor=customer)[:50])
