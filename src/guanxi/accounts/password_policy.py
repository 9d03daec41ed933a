"""Password policy as settings: length, character classes, history and maximum age.

The rules are Django password validators (``AUTH_PASSWORD_VALIDATORS``), so every place that
validates a password (our forms, the admin's reset, ``createsuperuser``) applies the same
rules with the same Chinese messages. ``PasswordHistoryValidator.password_changed`` is Django's
hook after a new password is saved: it records the hash in ``PasswordHistory`` and stamps
``password_changed_at``, whoever set the password. Settings are read at call time.
"""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import PasswordHistory, User
from guanxi.accounts.sessions import end_user_sessions
from guanxi.accounts.tokens import revoke_user_tokens
from guanxi.audit.models import AuditResult
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.ops.parameters import system_parameter

MSG_OLD_PASSWORD = _("当前密码不正确")
MSG_TOO_SHORT = _("密码长度不能少于 %(min)d 个字符")
MSG_CLASSES = _("密码须包含小写字母、大写字母、数字、符号中的至少 %(need)d 类")
MSG_REUSED = _("新密码不能与最近 %(count)d 次使用过的密码相同")
HELP_LENGTH = _("至少 %(min)d 个字符")
HELP_CLASSES = _("包含小写字母、大写字母、数字、符号中的至少 %(need)d 类")
HELP_HISTORY = _("不能与最近 %(count)d 次使用过的密码相同")


def min_length() -> int:
    return int(system_parameter("password_min_length"))


def required_classes() -> int:
    return max(0, min(4, int(system_parameter("password_classes"))))


def history_size() -> int:
    return max(0, int(system_parameter("password_history")))


def max_age_days() -> int:
    return max(0, int(system_parameter("password_max_age_days")))


class MinimumLengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < min_length():
            raise ValidationError(
                MSG_TOO_SHORT, code="password_too_short", params={"min": min_length()}
            )

    def get_help_text(self) -> str:
        return str(HELP_LENGTH % {"min": min_length()})


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other symbols ``password`` uses."""
    return sum(
        (
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassesValidator:
    def validate(self, password: str, user: Any = None) -> None:
        need = required_classes()
        if character_classes(password) < need:
            raise ValidationError(MSG_CLASSES, code="password_classes", params={"need": need})

    def get_help_text(self) -> str:
        return str(HELP_CLASSES % {"need": required_classes()})


class PasswordHistoryValidator:
    """Refuses the current password and the last N; records each new one (the hook)."""

    def validate(self, password: str, user: Any = None) -> None:
        count = history_size()
        if not count or user is None or not getattr(user, "pk", None):
            return
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-id")
            .values_list("password", flat=True)[:count]
        )
        if user.has_usable_password() and user.password not in hashes:
            hashes.append(user.password)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(MSG_REUSED, code="password_reused", params={"count": count})

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        now = timezone.now()
        with transaction.atomic():
            PasswordHistory.objects.create(user_id=user.pk, password=user.password)
            keep = max(history_size(), 1)
            stale = list(
                PasswordHistory.objects.filter(user_id=user.pk)
                .order_by("-id")
                .values_list("id", flat=True)[keep:]
            )
            if stale:
                PasswordHistory.objects.filter(id__in=stale).delete()
            User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now

    def get_help_text(self) -> str:
        return str(HELP_HISTORY % {"count": history_size()})


def password_expired(user: User, *, now: Any = None) -> bool:
    """True when the password is older than the maximum age (0 = never expires).

    A password of unknown age (set before the policy existed) counts as expired.
    """
    days = max_age_days()
    if not days:
        return False
    if user.password_changed_at is None:
        return True
    return user.password_changed_at + timedelta(days=days) <= (now or timezone.now())


def must_change_password(user: User) -> bool:
    return bool(user.must_change_password) or password_expired(user)


def _remember_current(user: User) -> None:
    """Put the password being replaced into the history when it is not there yet.

    ``create_user`` stores its hash without Django's ``password_changed`` hook, so the first
    password an account had would otherwise never reach the history and could be reused.
    """
    if not history_size() or not user.pk or not user.has_usable_password():
        return
    if not PasswordHistory.objects.filter(user_id=user.pk, password=user.password).exists():
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)


def password_set(*, user: User, raw_password: str, must_change: bool = False) -> None:
    """Validate ``raw_password`` against the policy and store it (history and
    ``password_changed_at`` are recorded by the validator hook).

    Raises ``ValidationError`` with the Chinese policy messages. It does not audit: callers
    (the user's own change, an admin's reset) audit their action with its context.
    """
    password_validation.validate_password(raw_password, user)
    _remember_current(user)
    user.set_password(raw_password)
    user.must_change_password = must_change
    user.save(update_fields=["password", "must_change_password"])


def password_change(
    *,
    actor: User,
    old_password: str,
    new_password: str,
    meta: RequestMeta,
    keep_session_key: str | None = None,
) -> dict[str, int]:
    """The signed-in user changes their own password.

    The current password must be given; the new one passes the policy. Other sessions end
    and API tokens are revoked (a changed password is how a user shuts out whoever else
    knew it). Refusals are audited; nothing changes on a refusal.
    """
    try:
        if not actor.check_password(old_password):
            raise ValidationError({"old_password": [MSG_OLD_PASSWORD]})
        with transaction.atomic():
            try:
                password_set(user=actor, raw_password=new_password, must_change=False)
            except ValidationError as exc:
                raise ValidationError({"new_password1": list(exc.messages)}) from exc
            cut = {
                "sessions_ended": end_user_sessions(actor, keep_session_key=keep_session_key),
                "tokens_revoked": revoke_user_tokens(actor),
            }
            audit_record(
                actor=actor, action="auth.password_change", obj=actor, params=cut, meta=meta
            )
    except ValidationError as exc:
        audit_record(
            actor=actor,
            action="auth.password_change",
            result=AuditResult.FAILED,
            obj=actor,
            error_code="ERR-006",
            params={"fields": sorted(exc.message_dict)},
            meta=meta,
        )
        raise
    return cut
