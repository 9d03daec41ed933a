"""Reading a user's notifications: always the caller's own, never anyone else's."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from guanxi.core.errors import NotFound
from guanxi.core.pagination import DEFAULT_LIMIT, Page, paginate
from guanxi.workflow.models import Notification

# The bell shows "99+" beyond this; counting stops there, so a huge backlog costs nothing.
BELL_CAP = 99


def notification_queryset(user: Any, *, unread_only: bool = False) -> QuerySet:
    """``user``'s notifications (none for anonymous); served by the inbox index."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient_id=user.pk)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notification_list(
    *, user: Any, unread_only: bool = False, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page:
    """Newest first, keyset pages (raises BadCursor for a foreign cursor)."""
    qs = notification_queryset(user, unread_only=unread_only)
    return paginate(qs, ordering="-id", cursor=cursor, limit=limit)


def notification_get(*, user: Any, pk: Any) -> Notification:
    """One of ``user``'s notifications; another user's id is simply not found."""
    try:
        return notification_queryset(user).get(pk=int(pk))
    except (Notification.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def unread_count(user: Any, *, cap: int | None = None) -> int:
    """Unread notifications (up to ``cap`` + 1 when given: "more than cap")."""
    qs = notification_queryset(user, unread_only=True).order_by()
    if cap is not None:
        return qs.values("pk")[: cap + 1].count()
    return qs.count()
