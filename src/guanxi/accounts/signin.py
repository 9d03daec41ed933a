"""The sign-in rules shared by the web login and the API token endpoint.

Both channels call the same steps, so lockout, account status and the second factor cannot
differ between them: ``check_password_step`` (password and status), ``verify_second_factor``
(TOTP or SMS code), ``gates`` (forced password change, forced 2FA enrolment) and
``record_success``. The web strings them across pages (``login_flow``); the API door is
``token_sign_in``. Every refusal is a ``LoginAttempt`` row and an audit entry with its reason;
credential failures count toward the automatic lock.
Account status is revealed only to someone who knows the password (no user enumeration).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts import lockout, password_policy, sms, totp
from guanxi.accounts.models import ApiToken, User
from guanxi.accounts.status import AccountDisabled, AccountLocked, ensure_may_sign_in
from guanxi.accounts.tokens import token_issue
from guanxi.audit.actions import register_actions
from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.core.errors import DomainError
from guanxi.core.masking import mask

WEB, API = "web", "api"
ACTIONS = {WEB: "auth.login", API: "auth.token"}
SECOND_STEP_ACTION = "auth.2fa"
SMS_PURPOSE = "login"

BAD_CREDENTIALS = "ERR-015"
OTP_REQUIRED = "ERR-016"
BAD_CODE = "ERR-017"
BAD_CAPTCHA = "ERR-018"
MUST_ENROL = "ERR-019"
MUST_CHANGE_PASSWORD = "ERR-020"

PASSWORD_GATE, ENROL_GATE = "password", "2fa"
# What a gate answers where its page cannot be shown (the API), checked in this order.
GATE_REFUSALS = {
    ENROL_GATE: (MUST_ENROL, lockout.MUST_ENROL),
    PASSWORD_GATE: (MUST_CHANGE_PASSWORD, lockout.PASSWORD_EXPIRED),
}

MSG_LOCKED_UNTIL = _("账号已锁定，请于 %(until)s 后重试或联系管理员")
MSG_LOCKED = _("账号已锁定，请联系管理员")

register_actions(
    {
        "auth.session_expired": _("会话超时"),
        "auth.session_refused": _("会话失效（账号已锁定或禁用）"),
    }
)


def sms_second_factor_enabled() -> bool:
    return bool(getattr(settings, "GUANXI_LOGIN_SMS_2FA", False))


def locked_error(user: User) -> AccountLocked:
    """ERR-003 whose message names the unlock time (or asks for an admin)."""
    if user.locked_until is None:
        return AccountLocked(MSG_LOCKED, locked_until="")
    until = timezone.localtime(user.locked_until).strftime("%Y-%m-%d %H:%M")
    return AccountLocked(MSG_LOCKED_UNTIL % {"until": until}, locked_until=until)


def refuse(
    *,
    code: str,
    reason: str,
    username: str,
    user: User | None,
    channel: str,
    meta: RequestMeta,
    actor: Any = None,
    action: str | None = None,
    message: Any = None,
) -> DomainError:
    """Record and audit a refused attempt; returns the error to raise.

    When this failure locks the account and the caller already proved the password
    (``actor`` set), the answer is the lock itself rather than the failure.
    """
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=action or ACTIONS[channel],
            result=AuditResult.DENIED,
            obj=user,
            object_type="user",
            object_repr=username[:150] if user is None else "",
            error_code=code,
            params={"username": username[:150], "reason": reason, "channel": channel},
            meta=meta,
        )
        locked = lockout.register_failure(
            username=username, user=user, channel=channel, reason=reason, meta=meta
        )
    if locked and actor is not None and user is not None:
        return locked_error(user)
    return DomainError(message, code=code)


def refuse_user(
    user: User, *, code: str, reason: str, channel: str, meta: RequestMeta, action: str = ""
) -> DomainError:
    """``refuse`` for someone who proved the password: the user is the actor."""
    return refuse(
        code=code,
        reason=reason,
        username=user.username,
        user=user,
        channel=channel,
        meta=meta,
        actor=user,
        action=action or None,
    )


def check_password_step(
    *, request: Any, username: str, password: str, channel: str, meta: RequestMeta
) -> User:
    """First step: the password, then the account status. Raises the refusal."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        candidate = User.objects.filter(username=username).first()
        inactive = candidate is not None and not candidate.is_active
        if inactive and candidate.check_password(password):
            raise _status_refusal(candidate, AccountDisabled(), channel, meta)
        raise refuse(
            code=BAD_CREDENTIALS,
            reason=_bad_password_reason(candidate),
            username=username,
            user=candidate,
            channel=channel,
            meta=meta,
        )
    try:
        ensure_may_sign_in(user)
    except DomainError as exc:
        raise _status_refusal(user, exc, channel, meta) from None
    lockout.lift_expired_lock(user, meta)
    return user


def _bad_password_reason(candidate: User | None) -> str:
    """Guesses against a locked account are recorded but do not count: otherwise they would
    carry over and re-lock the account soon after an administrator unlocks it. The answer
    stays ERR-015, so the lock is not revealed without the password."""
    if candidate is None:
        return lockout.UNKNOWN_USER
    return lockout.LOCKED if candidate.is_locked_now() else lockout.BAD_PASSWORD


def _status_refusal(user: User, exc: DomainError, channel: str, meta: RequestMeta) -> DomainError:
    locked = isinstance(exc, AccountLocked)
    reason = lockout.LOCKED if locked else lockout.DISABLED
    error = refuse_user(user, code=exc.code, reason=reason, channel=channel, meta=meta)
    return locked_error(user) if locked else error


def second_factor_methods(user: User) -> list[str]:
    """The ways this user proves the second factor at sign-in (empty: none is asked).

    TOTP when a confirmed device exists; SMS (when the setting is on and the user has a
    mobile) as the alternative to it, or as the factor a 2FA-requiring role is satisfied by.
    """
    methods = ["totp"] if totp.has_totp(user) else []
    sms_possible = sms_second_factor_enabled() and bool(user.mobile)
    if sms_possible and (methods or totp.role_requires_2fa(user)):
        methods.append("sms")
    return methods


def gates(user: User, *, methods: list[str]) -> list[str]:
    """What the user must do before anything else, in order: change the password, and enrol
    a second factor (a 2FA-requiring role, but none of ``methods`` to give one)."""
    due = [PASSWORD_GATE] if password_policy.must_change_password(user) else []
    if not methods and totp.role_requires_2fa(user):
        due.append(ENROL_GATE)
    return due


def send_sms_code(*, user: User, meta: RequestMeta) -> None:
    """Send the sign-in code to the user's mobile (throttled to one a minute); audited."""
    sms.sms_code_send(user=user, purpose=SMS_PURPOSE)
    audit_record(
        actor=None,
        action="auth.sms_code",
        obj=user,
        params={"purpose": SMS_PURPOSE, "mobile": mask("mobile", user.mobile)},
        meta=meta,
    )


def verify_second_factor(
    *, user: User, method: str, code: str, channel: str, meta: RequestMeta
) -> Any:
    """Second step. Returns the TOTP device (or True for SMS); a wrong code is a counted
    failure and raises ERR-017 (or ERR-003 when it was the one that locked the account)."""
    try:
        ensure_may_sign_in(user)
    except DomainError as exc:
        raise _status_refusal(user, exc, channel, meta) from None
    if method == "sms" and "sms" in second_factor_methods(user):
        if sms.sms_code_verify(user=user, purpose=SMS_PURPOSE, code=code):
            return True
        reason = lockout.BAD_SMS
    else:
        device = totp.verify(user, code)
        if device is not None:
            return device
        reason = lockout.BAD_OTP
    action = SECOND_STEP_ACTION if channel == WEB else ""
    raise refuse_user(user, code=BAD_CODE, reason=reason, channel=channel, meta=meta, action=action)


def token_sign_in(
    *, request: Any, username: str, password: str, otp: str, meta: RequestMeta
) -> tuple[str, ApiToken]:
    """The API door: the same steps as the web, in one request. The second factor is the
    TOTP code (no SMS round trip over the API) and a gate is a refusal, since the API cannot
    show the password or enrolment page. Returns the raw token and its row."""
    user = check_password_step(
        request=request, username=username, password=password, channel=API, meta=meta
    )
    methods = ["totp"] if totp.has_totp(user) else []
    if methods:
        code = (otp or "").strip()
        if not code:
            raise refuse_user(
                user, code=OTP_REQUIRED, reason=lockout.OTP_REQUIRED, channel=API, meta=meta
            )
        verify_second_factor(user=user, method="totp", code=code, channel=API, meta=meta)
    due = gates(user, methods=methods)
    for gate, (error_code, reason) in GATE_REFUSALS.items():
        if gate in due:
            raise refuse_user(user, code=error_code, reason=reason, channel=API, meta=meta)
    raw, token = token_issue(user=user)
    record_success(user=user, channel=API, method=methods[0] if methods else "password", meta=meta)
    return raw, token


def record_success(*, user: User, channel: str, method: str, meta: RequestMeta) -> None:
    """The success is an attempt row too: it resets the lockout count."""
    with transaction.atomic():
        lockout.record_attempt(
            username=user.username,
            user=user,
            channel=channel,
            success=True,
            reason=lockout.OK,
            meta=meta,
        )
        audit_record(
            actor=user,
            action=ACTIONS[channel],
            obj=user,
            params={"channel": channel, "method": method},
            meta=meta,
        )
