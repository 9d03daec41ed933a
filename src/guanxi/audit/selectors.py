"""Every read of the audit log: the view permission first, then filters, then keyset pages.

The log is not scoped by department: it is read by the people who audit everyone
(``audit.view_auditentry``). Reads never count the table; lists walk ``id`` newest first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import QuerySet

from guanxi.audit.filters import AuditEntryFilter
from guanxi.audit.models import AuditEntry
from guanxi.core.errors import NotFound
from guanxi.core.pagination import DEFAULT_LIMIT, Page, paginate
from guanxi.core.permissions import require_perm

VIEW_PERM = "audit.view_auditentry"
ORDERING = "-id"


def audit_queryset(user: Any) -> QuerySet:
    """All entries, for holders of the view permission (others: PermissionDenied)."""
    require_perm(user, VIEW_PERM)
    return AuditEntry.objects.select_related("actor")


def audit_filter(user: Any, params: Mapping[str, Any]) -> AuditEntryFilter:
    """The bound filter; ``.qs`` is the filtered queryset, ``.errors`` when input is bad."""
    return AuditEntryFilter(params, queryset=audit_queryset(user))


def audit_list(
    *, user: Any, params: Mapping[str, Any], cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    """One page, newest first (raises BadCursor for a cursor we did not make)."""
    filterset = audit_filter(user, params)
    qs = filterset.qs if filterset.is_valid() else AuditEntry.objects.none()
    return paginate(qs, ordering=ORDERING, cursor=cursor, limit=limit)


def audit_get(*, user: Any, pk: Any) -> AuditEntry:
    """One entry, or NotFound for an unknown or junk id (Django matches out-of-range ints to
    nothing, so no id reaches the database as an error)."""
    qs = audit_queryset(user)
    try:
        return qs.get(pk=int(pk))
    except (AuditEntry.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def audit_iter(qs: QuerySet, *, limit: int, batch_size: int = 1000) -> Iterator[AuditEntry]:
    """Up to ``limit`` entries of ``qs`` newest first, fetched in keyset batches so an export
    of a long log holds one batch in memory at a time."""
    last_id: int | None = None
    remaining = limit
    while remaining > 0:
        batch_qs = qs.order_by("-id")
        if last_id is not None:
            batch_qs = batch_qs.filter(id__lt=last_id)
        batch = list(batch_qs[: min(batch_size, remaining)])
        yield from batch
        if len(batch) < min(batch_size, remaining):
            return
        remaining -= len(batch)
        last_id = batch[-1].pk
