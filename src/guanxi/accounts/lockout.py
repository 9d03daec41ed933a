"""Sign-in attempts and the automatic lock after repeated failures.

The lock is the user's own status (``locked`` with ``locked_until`` and ``lock_reason``), the
same state an administrator sees and lifts on the user screens, so there is one truth about
whether an account may sign in. Every attempt (web and API) is a ``LoginAttempt`` row; only
credential failures (wrong password, wrong second-factor code) count toward the lock, and only
those after the last success or the last lock inside the window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import LoginAttempt, User
from guanxi.accounts.sessions import end_user_sessions
from guanxi.accounts.tokens import revoke_user_tokens
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.ops.parameters import system_parameter

LOCK_REASON = _("连续登录失败")

# LoginAttempt.reason values. Only the COUNTED ones move a user toward the lock.
OK = "ok"
BAD_PASSWORD = "bad_password"
UNKNOWN_USER = "unknown_user"
BAD_OTP = "bad_otp"
BAD_SMS = "bad_sms"
CAPTCHA = "captcha"
LOCKED = "locked"
DISABLED = "disabled"
OTP_REQUIRED = "otp_required"
MUST_ENROL = "must_enrol_2fa"
PASSWORD_EXPIRED = "password_expired"
SESSION_LIMIT = "session_limit"
LOCKOUT = "lockout"  # the counted failure that triggered a lock (also a reset point)
COUNTED = (BAD_PASSWORD, BAD_OTP, BAD_SMS, LOCKOUT)
# Refusals that make the login page ask for a captcha ("after_failure" mode): guessing, not
# policy refusals of someone who gave the right password (session limit, expired password).
CAPTCHA_TRIGGERS = (*COUNTED, UNKNOWN_USER, CAPTCHA, LOCKED, DISABLED)


def max_failures() -> int:
    return int(system_parameter("lockout_failures"))


def window() -> timedelta:
    return timedelta(minutes=int(system_parameter("lockout_window_minutes")))


def lock_duration() -> timedelta:
    return timedelta(minutes=int(system_parameter("lockout_minutes")))


def record_attempt(
    *,
    username: str,
    user: User | None,
    channel: str,
    success: bool,
    reason: str,
    meta: RequestMeta,
) -> LoginAttempt:
    return LoginAttempt.objects.create(
        username=(username or "")[:150],
        user=user,
        channel=channel,
        success=success,
        reason=reason,
        ip=meta.ip,
        user_agent=meta.user_agent[:255],
    )


def counted_failures(username: str, *, now: Any = None) -> int:
    """Credential failures for ``username`` in the window since its last success or lock."""
    since = (now or timezone.now()) - window()
    recent = LoginAttempt.objects.filter(username=username, occurred_at__gte=since)
    reset = (
        recent.filter(Q(success=True) | Q(reason=LOCKOUT))
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if reset is not None:
        recent = recent.filter(id__gt=reset)
    return recent.filter(success=False, reason__in=COUNTED).count()


def has_recent_failure(*, username: str = "", ip: str | None = None) -> bool:
    """A guessing-type refusal by this username or from this IP inside the window (captcha)."""
    condition = Q()
    if username:
        condition |= Q(username=username[:150])
    if ip:
        condition |= Q(ip=ip)
    if not condition:
        return False
    since = timezone.now() - window()
    return LoginAttempt.objects.filter(
        condition, success=False, reason__in=CAPTCHA_TRIGGERS, occurred_at__gte=since
    ).exists()


def register_failure(
    *,
    username: str,
    user: User | None,
    channel: str,
    reason: str,
    meta: RequestMeta,
) -> bool:
    """Record a refused attempt; lock the user when it is the Nth counted failure.

    Returns True when this attempt locked the account.
    """
    with transaction.atomic():
        attempt = record_attempt(
            username=username, user=user, channel=channel, success=False, reason=reason, meta=meta
        )
        if user is None or reason not in COUNTED:
            return False
        failures = counted_failures(username)
        if failures < max_failures():
            return False
        return _lock(user, attempt, failures, channel, meta)


def _lock(user: User, attempt: LoginAttempt, failures: int, channel: str, meta: Any) -> bool:
    current = User.objects.select_for_update().get(pk=user.pk)
    if current.is_locked_now() or current.status in (UserStatus.DISABLED, UserStatus.DELETED):
        return False  # an admin's lock (or a disable) stays as it is
    now = timezone.now()
    current.status = UserStatus.LOCKED
    current.locked_until = now + lock_duration()
    current.lock_reason = str(LOCK_REASON)
    current.save(update_fields=["status", "locked_until", "lock_reason"])
    LoginAttempt.objects.filter(pk=attempt.pk).update(reason=LOCKOUT)
    # A lock shuts the account like an administrator's lock does: sessions end, tokens die.
    cut = {
        "sessions_ended": end_user_sessions(current),
        "tokens_revoked": revoke_user_tokens(current),
    }
    user.status, user.locked_until, user.lock_reason = (
        current.status,
        current.locked_until,
        current.lock_reason,
    )
    audit_record(
        actor=None,
        action="auth.lockout",
        obj=current,
        changes={"status": [UserStatus.ACTIVE.value, UserStatus.LOCKED.value]},
        params={
            "reason": str(LOCK_REASON),
            "failures": failures,
            "window_minutes": int(window().total_seconds() // 60),
            "locked_until": current.locked_until,
            "channel": channel,
            **cut,
        },
        meta=meta,
    )
    return True


def lift_expired_lock(user: User, meta: RequestMeta) -> None:
    """A lock whose time has passed becomes ``active`` again at the next sign-in, so the
    admin screens stop showing a stale lock; audited as an unlock by time."""
    if user.status != UserStatus.LOCKED or user.locked_until is None:
        return
    if user.locked_until > timezone.now():
        return
    with transaction.atomic():
        updated = User.objects.filter(
            pk=user.pk, status=UserStatus.LOCKED, locked_until__lte=timezone.now()
        ).update(status=UserStatus.ACTIVE, locked_until=None, lock_reason="")
        if not updated:
            return
        before = (user.locked_until, user.lock_reason)
        user.status, user.locked_until, user.lock_reason = UserStatus.ACTIVE, None, ""
        audit_record(
            actor=None,
            action="user.unlock",
            obj=user,
            changes={
                "status": [UserStatus.LOCKED.value, UserStatus.ACTIVE.value],
                "locked_until": [before[0], None],
            },
            params={"reason": "lock_expired"},
            meta=meta,
        )
