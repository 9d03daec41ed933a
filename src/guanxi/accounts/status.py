"""Whether a user may sign in (web, API token issue, and every token call)."""

from __future__ import annotations

from django.utils import timezone

from guanxi.accounts.choices import UserStatus
from guanxi.accounts.models import User
from guanxi.core.errors import DomainError


class AccountLocked(DomainError):
    code = "ERR-003"


class AccountDisabled(DomainError):
    code = "ERR-004"


def ensure_may_sign_in(user: User) -> None:
    """Raise ERR-003/ERR-004 for locked, disabled or deleted accounts; expired locks lapse."""
    if user.status == UserStatus.LOCKED:
        if user.locked_until is not None and user.locked_until <= timezone.now():
            return
        until = (
            timezone.localtime(user.locked_until).strftime("%Y-%m-%d %H:%M")
            if user.locked_until
            else ""
        )
        raise AccountLocked(locked_until=until)
    if user.status in (UserStatus.DISABLED, UserStatus.DELETED) or not user.is_active:
        raise AccountDisabled()
