"""Marking notifications read: the recipient's own inbox state.

Not audited: reading one's own messages changes no business data and would only bury the
log; creating notifications (``notifications.notify``) happens inside audited services.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from guanxi.workflow import selectors
from guanxi.workflow.models import Notification


def notification_mark_read(*, actor: Any, pk: Any) -> Notification:
    """Mark one of the actor's notifications read (idempotent); another's id is NotFound."""
    notification = selectors.notification_get(user=actor, pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        # Only if still unread: a concurrent read keeps the first time.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    return selectors.notification_queryset(actor, unread_only=True).update(read_at=timezone.now())
