"""Creating notifications (the bell); e-mail delivery and digests come with reminders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from guanxi.workflow.models import Notification, NotificationLevel


def notify(
    recipients: Iterable[Any],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    level: str = NotificationLevel.INFO,
) -> list[Notification]:
    """One unread notification per distinct recipient."""
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user, kind=kind, title=title[:200], body=body, url=url, level=level
            )
        )
    return Notification.objects.bulk_create(rows)


def admins() -> list[Any]:
    """Active users holding the admin role (or superusers): who security alerts go to."""
    from django.db.models import Q

    from guanxi.accounts.choices import UserStatus
    from guanxi.accounts.models import User

    return list(
        User.objects.filter(Q(roles__code="admin") | Q(is_superuser=True))
        .filter(is_active=True, status=UserStatus.ACTIVE)
        .distinct()
    )


def holders(perm: str) -> list[Any]:
    """Active users whose roles grant ``perm`` (``app_label.codename``): who a job's
    to-do for that duty goes to."""
    from guanxi.accounts.choices import UserStatus
    from guanxi.accounts.models import User

    app_label, codename = perm.split(".", 1)
    return list(
        User.objects.filter(
            is_active=True,
            status=UserStatus.ACTIVE,
            roles__permissions__codename=codename,
            roles__permissions__content_type__app_label=app_label,
        ).distinct()
    )
