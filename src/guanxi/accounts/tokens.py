"""Bearer tokens for the API: random, shown once, stored as SHA-256, expiring and revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from guanxi.accounts.models import ApiToken, User
from guanxi.accounts.status import ensure_may_sign_in


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, user: User, name: str = "api") -> tuple[str, ApiToken]:
    """Create a token; the raw value is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=_hash(raw),
        prefix=raw[:8],
        name=name,
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    return raw, token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_user_tokens(user: User) -> int:
    """Revoke every live token of ``user`` (on disable, lock, delete or password reset)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``; locked/disabled users are refused on every call."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("invalid Authorization header")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("invalid token") from exc
        now = timezone.now()
        token = (
            ApiToken.objects.select_related("user", "user__department")
            .filter(key_hash=_hash(raw), expires_at__gt=now)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        # Before the revocation check: locking or disabling revokes every token, and the
        # contract (API.md) says the holder of one is told ERR-003/ERR-004, not just 401.
        ensure_may_sign_in(token.user)
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("invalid or expired token")
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
