"""SMS: a pluggable sender and one-time verification codes.

A sender is any object with ``send(mobile, message)``; ``GUANXI_SMS_SENDER`` names its class
(dotted path). The default logs the message (development, demos); ``LocmemSmsSender`` keeps
messages in ``outbox`` for tests; a real provider (Aliyun, Tencent Cloud ...) is a small class
in the deployment's own package. Codes are 6 digits, valid 5 minutes, 5 tries, one send per
minute per mobile and purpose, and stored only as a keyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import SmsCode, User
from guanxi.core.errors import DomainError
from guanxi.core.masking import mask

logger = logging.getLogger("guanxi.sms")

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(minutes=1)
MSG_LOGIN_CODE = _(
    "【%(app)s】您的登录验证码为 %(code)s，%(minutes)d 分钟内有效。如非本人操作，请忽略本短信。"
)
MSG_RESEND_WAIT = _("验证码已发送，请 %(seconds)d 秒后再重新获取")
MSG_NO_MOBILE = _("账号未登记手机号，无法发送短信验证码")

outbox: list[tuple[str, str]] = []  # filled by LocmemSmsSender (tests)


class SmsSender(Protocol):
    def send(self, mobile: str, message: str) -> None: ...


class ConsoleSmsSender:
    """Writes the message to the log instead of sending it (no provider configured)."""

    def send(self, mobile: str, message: str) -> None:
        logger.info("SMS to %s: %s", mask("mobile", mobile), message)


class LocmemSmsSender:
    """Appends ``(mobile, message)`` to ``guanxi.accounts.sms.outbox`` (tests)."""

    def send(self, mobile: str, message: str) -> None:
        outbox.append((mobile, message))


def get_sender() -> SmsSender:
    path = getattr(settings, "GUANXI_SMS_SENDER", "guanxi.accounts.sms.ConsoleSmsSender")
    return import_string(path)()


def _digest(mobile: str, purpose: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{purpose}:{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


class SmsThrottled(DomainError):
    code = "ERR-008"


def sms_code_send(*, user: User, purpose: str) -> SmsCode:
    """Create a code for ``user``'s mobile and send it; refused within a minute of the last."""
    mobile = user.mobile
    if not mobile:
        raise DomainError(MSG_NO_MOBILE, code="ERR-006")
    now = timezone.now()
    with transaction.atomic():
        last = SmsCode.objects.filter(mobile=mobile, purpose=purpose).order_by("-id").first()
        if last is not None and now - last.created_at < RESEND_INTERVAL:
            wait = int((RESEND_INTERVAL - (now - last.created_at)).total_seconds()) + 1
            raise SmsThrottled(MSG_RESEND_WAIT % {"seconds": wait}, wait_seconds=wait)
        code = f"{secrets.randbelow(10**6):06d}"
        record = SmsCode.objects.create(
            user=user,
            mobile=mobile,
            purpose=purpose,
            code_hash=_digest(mobile, purpose, code),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        message = MSG_LOGIN_CODE % {
            "app": str(settings.APP_TITLE),
            "code": code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
        }
    # Sent after the row is committed; a provider error leaves an unusable code, no more.
    get_sender().send(mobile, str(message))
    return record


def sms_code_verify(*, user: User, purpose: str, code: str) -> bool:
    """True (and the code is used up) when ``code`` matches the newest live code."""
    now = timezone.now()
    with transaction.atomic():
        record = (
            SmsCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if record is None or record.attempts >= MAX_ATTEMPTS:
            return False
        expected = _digest(record.mobile, purpose, (code or "").strip())
        if hmac.compare_digest(expected, record.code_hash):
            record.used_at = now
            record.save(update_fields=["used_at"])
            return True
        record.attempts += 1
        record.save(update_fields=["attempts"])
        return False
