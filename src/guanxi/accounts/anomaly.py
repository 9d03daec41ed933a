"""Anomaly alert: a burst of role or permission changes by one person.

Someone granting themselves (or an accomplice) power usually does it in a hurry, in several
steps. More than ``ANOMALY_ROLE_CHANGES`` such changes by one user within
``ANOMALY_WINDOW_MINUTES`` notify every admin and write ``security.anomaly`` to the audit log —
once per window per user, not again on every further change.

Counted from the audit log, so it needs no state of its own and works across processes. The
check runs inside the change's transaction, after its audit entry: the chain-head lock taken
by ``audit_record`` serialises concurrent checks, and a rolled-back change leaves no alert.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.audit.services import RequestMeta, audit_record

ANOMALY_ACTION = "security.anomaly"
# Audit actions that change who may do what.
COUNTED_ACTIONS = (
    "role.create",
    "role.update",
    "role.delete",
    "role.permissions",
    "role.scopes",
    "user.roles",
)


def threshold() -> int:
    return int(getattr(settings, "ANOMALY_ROLE_CHANGES", 5))


def window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "ANOMALY_WINDOW_MINUTES", 10)))


def recent_changes(actor: Any, *, now: Any = None) -> int:
    """Successful role/permission changes by ``actor`` within the window."""
    since = (now or timezone.now()) - window()
    return AuditEntry.objects.filter(
        actor_id=actor.pk,
        action__in=COUNTED_ACTIONS,
        result=AuditResult.SUCCESS,
        occurred_at__gte=since,
    ).count()


def check_role_change_burst(*, actor: Any, meta: RequestMeta | None = None) -> AuditEntry | None:
    """Raise the alert when ``actor`` just passed the threshold; returns the audit entry."""
    if not getattr(actor, "is_authenticated", False):
        return None
    now = timezone.now()
    count = recent_changes(actor, now=now)
    limit = threshold()
    if count <= limit:
        return None
    already = AuditEntry.objects.filter(
        action=ANOMALY_ACTION,
        object_type="user",
        object_id=str(actor.pk),
        occurred_at__gte=now - window(),
    ).exists()
    if already:
        return None
    minutes = int(window().total_seconds() // 60)
    entry = audit_record(
        actor=None,
        action=ANOMALY_ACTION,
        obj=actor,
        params={"kind": "role_changes", "count": count, "threshold": limit, "minutes": minutes},
        meta=meta,
    )
    _notify_admins(actor, count, minutes)
    return entry


def _notify_admins(actor: Any, count: int, minutes: int) -> None:
    from django.urls import NoReverseMatch, reverse

    from guanxi.workflow.models import NotificationLevel
    from guanxi.workflow.notifications import admins, notify

    try:
        url = reverse("org:user_detail", args=[actor.pk])
    except NoReverseMatch:
        url = ""
    title = _("安全告警：%(name)s 在 %(minutes)s 分钟内进行了 %(count)s 次角色或权限变更") % {
        "name": actor.display_name,
        "minutes": minutes,
        "count": count,
    }
    body = _(
        "用户 %(username)s 短时间内频繁修改角色或权限，请在审计日志中核实这些变更是否经过授权。"
    ) % {"username": actor.username}
    notify(
        admins(),
        kind=ANOMALY_ACTION,
        title=title,
        body=body,
        url=url,
        level=NotificationLevel.ALERT,
    )
