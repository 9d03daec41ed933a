"""Every read of customers: scope first (``restrict``), then filters, then keyset pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, paginate
from guanxi.customers.filters import CustomerFilter, clean_ordering
from guanxi.customers.models import Customer, StatusChange, Tag

COUNT_CAP = 10_000


def customer_queryset(user: Any, action: str = "view") -> QuerySet:
    """Live customers within ``user``'s scope for ``action``, with what lists show."""
    return (
        Customer.objects.alive()
        .restrict(user, action)
        .select_related("owner", "department")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")))
    )


def customer_filter(user: Any, params: Mapping[str, Any]) -> CustomerFilter:
    """The bound filter (its ``.qs`` is the scoped, filtered queryset; ``.errors`` if bad)."""
    return CustomerFilter(params, queryset=customer_queryset(user))


def customer_list(
    *, user: Any, params: Mapping[str, Any], cursor: str | None = None, limit: int = 50
) -> Page:
    """One page of the customer list as the list page and the API show it."""
    filterset = customer_filter(user, params)
    qs = filterset.qs if filterset.is_valid() else customer_queryset(user).none()
    ordering = clean_ordering(params.get("ordering"))
    return paginate(qs, ordering=ordering, cursor=cursor, limit=limit)


def customer_count(*, user: Any, params: Mapping[str, Any], cap: int = COUNT_CAP) -> int:
    """Exact count up to ``cap`` (then ``cap`` + 1 means "more"): never a full scan."""
    filterset = customer_filter(user, params)
    if not filterset.is_valid():
        return 0
    return filterset.qs.order_by().values("pk")[: cap + 1].count()


def customer_get(*, user: Any, pk: Any, action: str = "view") -> Customer:
    """One live customer in scope, or NotFound (never a different error for out-of-scope)."""
    try:
        return (
            customer_queryset(user, action)
            .select_related("created_by", "updated_by")
            .get(pk=int(pk))
        )
    except (Customer.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def customer_status_history(*, customer: Customer) -> QuerySet:
    return StatusChange.objects.filter(customer=customer).select_related("changed_by")


def customer_change_history(*, customer: Customer, limit: int = 200) -> list[AuditEntry]:
    """Field changes and status changes of one customer, newest first (from the audit log)."""
    return list(
        AuditEntry.objects.filter(
            object_type="customer", object_id=str(customer.pk), result="success"
        )
        .select_related("actor")
        .order_by("-id")[:limit]
    )


def can_view_sensitive(user: Any, customer: Customer) -> bool:
    """Owners and holders of the sensitive-data permission see personal values in full."""
    return customer.owner_id == user.pk or user.has_perm("customers.view_sensitive_customer")
