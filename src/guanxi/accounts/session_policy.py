"""Session rules: idle timeout, absolute lifetime, concurrent-session limit, "my sessions".

Two timestamps live in the session itself (sign-in time and last activity, epoch seconds),
so the per-request check reads no extra rows; last activity is written at most once a
minute. The qsessions rows (user, IP, user agent, created/updated) serve the session list
and the concurrent limit; a row counts as live while its last save is within the idle
timeout and its creation within the lifetime.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from qsessions.models import Session

from guanxi.accounts.models import User
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.errors import DomainError
from guanxi.ops.parameters import system_parameter

STARTED_KEY = "_gx_started"
SEEN_KEY = "_gx_seen"
GATES_KEY = "_gx_gates"  # pages the user must pass first: "password", "2fa"
TOUCH_SECONDS = 60
END_OLDEST, REFUSE = "end_oldest", "refuse"
SESSION_LIMIT_CODE = "ERR-021"
SESSION_EXPIRED_CODE = "ERR-022"

MSG_LIMIT = _("同时在线的会话已达上限（%(max)d 个），请先在其他设备退出登录，或联系管理员")
MSG_IDLE = _("长时间未操作，会话已超时，请重新登录")
MSG_ABSOLUTE = _("会话已超过最长有效期（%(hours)d 小时），请重新登录")
UNKNOWN_DEVICE = _("未知设备")


def idle_timeout() -> timedelta:
    return timedelta(minutes=int(system_parameter("session_idle_minutes")))


def max_lifetime() -> timedelta:
    return timedelta(hours=int(system_parameter("session_max_hours")))


def max_sessions() -> int:
    return max(0, int(system_parameter("max_sessions")))


def limit_policy() -> str:
    policy = system_parameter("session_limit_policy")
    return REFUSE if policy == REFUSE else END_OLDEST


def _epoch(now: Any) -> int:
    return int(now.timestamp())


def stamp(session: Any, *, now: Any = None) -> None:
    """Mark the session as signed in now (called right after ``login``)."""
    at = _epoch(now or timezone.now())
    session[STARTED_KEY] = at
    session[SEEN_KEY] = at


def expiry_reason(session: Any, *, now: Any = None) -> str:
    """ "idle", "absolute" or "" for a signed-in session. Sessions without stamps (signed in
    before this policy, or by a test's ``force_login``) are stamped now."""
    at = _epoch(now or timezone.now())
    started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
    if started is None or seen is None:
        session[STARTED_KEY] = started or at
        session[SEEN_KEY] = at
        return ""
    if at - int(seen) > idle_timeout().total_seconds():
        return "idle"
    if at - int(started) > max_lifetime().total_seconds():
        return "absolute"
    return ""


def expiry_message(reason: str) -> str:
    if reason == "absolute":
        return str(MSG_ABSOLUTE % {"hours": int(max_lifetime().total_seconds() // 3600)})
    return str(MSG_IDLE)


def touch(session: Any, *, now: Any = None) -> None:
    """Record activity, writing the session at most once per ``TOUCH_SECONDS``."""
    at = _epoch(now or timezone.now())
    if at - int(session.get(SEEN_KEY) or 0) >= TOUCH_SECONDS:
        session[SEEN_KEY] = at


def live_sessions(user: User, *, now: Any = None) -> QuerySet:
    """The user's sessions that are still usable (not expired, idle or too old)."""
    now = now or timezone.now()
    return Session.objects.filter(
        user=user,
        expire_date__gt=now,
        updated_at__gte=now - idle_timeout(),
        created_at__gte=now - max_lifetime(),
    )


def public_id(session_key: str) -> str:
    """A stable handle for a session in pages and URLs; the key itself is a secret."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:20]


def session_rows(user: User, current_key: str | None) -> list[dict[str, Any]]:
    """What "我的会话" shows: device, IP, created, last activity, and which one is this."""
    rows = []
    for s in live_sessions(user).order_by("-updated_at"):
        rows.append(
            {
                "id": public_id(s.session_key),
                "device": s.device or str(UNKNOWN_DEVICE),
                "user_agent": s.user_agent or "",
                "ip": s.ip or "",
                "created_at": s.created_at,
                "last_activity": s.updated_at,
                "current": s.session_key == current_key,
            }
        )
    rows.sort(key=lambda r: not r["current"])
    return rows


class SessionLimitReached(DomainError):
    code = SESSION_LIMIT_CODE


def check_limit(user: User, *, current_key: str | None) -> None:
    """Under the "refuse" policy, a new sign-in beyond the limit is refused."""
    limit = max_sessions()
    if not limit or limit_policy() != REFUSE:
        return
    others = live_sessions(user)
    if current_key:
        others = others.exclude(session_key=current_key)
    if others.count() >= limit:
        raise SessionLimitReached(MSG_LIMIT % {"max": limit})


def end_excess(user: User, *, current_key: str, meta: RequestMeta) -> int:
    """Under "end_oldest", end the oldest live sessions so at most the limit remain."""
    limit = max_sessions()
    if not limit or limit_policy() != END_OLDEST:
        return 0
    others = list(
        live_sessions(user)
        .exclude(session_key=current_key)
        .order_by("-created_at")
        .values_list("session_key", flat=True)
    )
    excess = others[limit - 1 :]
    if not excess:
        return 0
    return _end(user, excess, actor=user, meta=meta, reason="limit")


def _end(user: User, keys: list[str], *, actor: Any, meta: RequestMeta, reason: str) -> int:
    with transaction.atomic():
        ended, _ = Session.objects.filter(user=user, session_key__in=keys).delete()
        audit_record(
            actor=actor,
            action="auth.session_end",
            obj=user,
            params={"reason": reason, "ended": ended, "sessions": [public_id(k) for k in keys]},
            meta=meta,
        )
    return ended


def session_end(
    *, actor: User, session_id: str, current_key: str | None, meta: RequestMeta
) -> bool:
    """Sign out one of the actor's own sessions (not the current one: that is 退出登录)."""
    for key in Session.objects.filter(user=actor).values_list("session_key", flat=True):
        if public_id(key) == session_id and key != current_key:
            return _end(actor, [key], actor=actor, meta=meta, reason="user") > 0
    return False


def sessions_end_others(*, actor: User, current_key: str | None, meta: RequestMeta) -> int:
    """退出其他会话: every session of the actor but this one."""
    keys = list(
        Session.objects.filter(user=actor)
        .exclude(session_key=current_key or "")
        .values_list("session_key", flat=True)
    )
    if not keys:
        return 0
    return _end(actor, keys, actor=actor, meta=meta, reason="others")
