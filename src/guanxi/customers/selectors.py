"""Every read of customers: scope first (``restrict``), then filters, then keyset pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound
from guanxi.core.masking import mask
from guanxi.core.pagination import Page, cursor_position, page_limit, paginate
from guanxi.core.scopes import scope_covers, scope_members
from guanxi.customers import search
from guanxi.customers.filters import CustomerFilter, clean_ordering
from guanxi.customers.models import Customer, StatusChange, Tag
from guanxi.customers.validation import PERSONAL_FIELDS, SENSITIVE_FIELDS

COUNT_CAP = 10_000


def customer_queryset(user: Any, action: str = "view") -> QuerySet:
    """Live customers within ``user``'s scope for ``action``, with what lists show.

    The scope filters rows; the view permission decides whether customers exist at all for
    the user (a role without it, whatever its scope, sees none).
    """
    if not getattr(user, "is_authenticated", False) or not user.has_perm("customers.view_customer"):
        return Customer.objects.none()
    return (
        Customer.objects.alive()
        .restrict(user, action)
        # Owner and department by prefetch, not join: the page query stays on one table, so
        # the planner sorts and limits before anything else (searches fetch thousands of rows).
        .prefetch_related(
            "owner",
            "department",
            Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")),
        )
    )


def customer_filter(user: Any, params: Mapping[str, Any]) -> CustomerFilter:
    """The bound filter (its ``.qs`` is the scoped, filtered queryset; ``.errors`` if bad)."""
    return CustomerFilter(params, queryset=customer_queryset(user))


def customer_list(
    *,
    user: Any,
    params: Mapping[str, Any],
    cursor: str | None = None,
    limit: int = 50,
    related: bool = True,
) -> Page:
    """One page of the customer list as the list page and the API show it. ``related=False``
    leaves out the owner, department and tag prefetches (the API shows ids and reads tags
    with their rules itself: three queries and ~150 model instances less a page)."""
    ordering = clean_ordering(params.get("ordering"))
    before_id, backwards = cursor_position(cursor, ordering)
    limit = page_limit(limit)  # as paginate bounds it: the window's page is the same page

    def filtered(*, scoped: bool = True) -> QuerySet:
        # Built on each call: a search window applies while the filters are built.
        base = customer_queryset(user) if scoped else Customer.objects.alive()
        filterset = CustomerFilter(params, queryset=base)
        qs = filterset.qs if filterset.is_valid() else base.none()
        return qs if related else qs.prefetch_related(None)

    def page_ids() -> list[int]:
        # An index read with the scope's tokens finds only rows in scope by itself; the rows
        # of the page are then read through the scoped queryset whatever these ids are.
        qs = filtered(scoped=not search.index_narrows_to_scope())
        if before_id is not None:
            qs = qs.filter(pk__lt=before_id)
        return list(qs.order_by(search.newest_first()).values_list("pk", flat=True)[: limit + 1])

    # Only a text search uses the scope's index tokens; a plain list needs no lookup.
    owners, departments = scope_members(user, Customer) if params.get("q") else ([], [])
    with search.scope_search(owners, departments):
        return search.windowed_page(
            lambda: paginate(filtered(), ordering=ordering, cursor=cursor, limit=limit),
            page_ids=page_ids,
            raw_query=params.get("q"),
            ordering="" if backwards else ordering,
            before_id=before_id,
            page_size=limit,
        )


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


def writable_ids(user: Any, customers: list[Customer]) -> set[int]:
    """Which of ``customers`` (read within ``user``'s view scope, live or in the bin) are
    inside their write scope (pages hide buttons otherwise): one query at most, none when
    the write scope covers the read scope."""
    ids = [c.pk for c in customers]
    if scope_covers(user, Customer, "change"):
        return set(ids)
    rows = Customer.objects.restrict(user, "change").filter(pk__in=ids)
    return set(rows.values_list("pk", flat=True))


def customer_writable(user: Any, customer: Customer) -> bool:
    return customer.pk in writable_ids(user, [customer])


def customer_status_history(*, customer: Customer) -> QuerySet:
    return StatusChange.objects.filter(customer=customer).select_related("changed_by")


# Audited actions on a customer that are not changes to it (the history leaves them out).
NOT_CHANGES = ("customer.reveal", "customer.subject_export")
ERASED_VALUE = "（已清除）"


def customer_change_history(*, customer: Customer, limit: int = 200) -> list[AuditEntry]:
    """Field changes and status changes of one customer, newest first (from the audit log).

    Personal values in the entries were masked when they were written (services.snapshot).
    """
    entries = list(
        AuditEntry.objects.filter(
            object_type="customer", object_id=str(customer.pk), result="success"
        )
        .exclude(action__in=NOT_CHANGES)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
    if customer.erased_at is not None:
        _redact(entries, customer)
    return entries


def _redact(entries: list[AuditEntry], customer: Customer) -> None:
    """An erased customer's history shows no personal values (the log itself is append-only
    and keeps them for its retention period; the pages and the API do not show them)."""
    personal = set(PERSONAL_FIELDS)
    if customer.customer_type == "individual":
        personal |= {"name", "uscc"}
    for entry in entries:
        entry.changes = {
            field: [ERASED_VALUE if value not in (None, "", []) else value for value in pair]
            if field in personal or field.startswith("custom_fields.")
            else pair
            for field, pair in (entry.changes or {}).items()
        }


def customer_changes_since(*, customer: Customer, since: Any) -> list[AuditEntry]:
    """Changes made to a customer after ``since`` (oldest first): what a stale edit missed."""
    return list(
        AuditEntry.objects.filter(
            object_type="customer",
            object_id=str(customer.pk),
            result="success",
            occurred_at__gt=since,
        )
        .exclude(action__in=NOT_CHANGES)
        .select_related("actor")
        .order_by("id")[:50]
    )


def can_view_sensitive(user: Any, customer: Customer) -> bool:
    """Owners and holders of the sensitive-data permission may see personal values in full
    (and reveal them where a page masks them)."""
    return customer.owner_id == user.pk or user.has_perm("customers.view_sensitive_customer")


def shows_sensitive(user: Any, customer: Customer) -> bool:
    """Whether a page or API answer shows this customer's personal values unmasked.

    Lists and single records alike show them in full to permitted users (the owner and
    holders of the sensitive-data permission) and masked to everyone else. With
    ``SHOW_SENSITIVE_BY_DEFAULT`` off they are masked for everyone and a permitted user
    reveals one value at a time ("显示", audited).
    """
    if not getattr(settings, "SHOW_SENSITIVE_BY_DEFAULT", True):
        return False
    return can_view_sensitive(user, customer)


def sensitive_values(user: Any, customer: Customer) -> dict[str, str]:
    """The personal fields of ``customer`` as ``user`` sees them on a list or a record."""
    values = {f: getattr(customer, f) or "" for f in SENSITIVE_FIELDS}
    if shows_sensitive(user, customer):
        return values
    return {f: mask(f, v) for f, v in values.items()}
