"""TOTP two-factor authentication (django-otp devices): enrol, confirm, verify, disable.

A user has at most one TOTP device. It is created unconfirmed when the user opens the
enrolment page and becomes the second factor only once a code from the authenticator app
confirms it. Enabling and disabling are audited; verification at sign-in is audited by the
sign-in flow.
"""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.accounts.models import User
from guanxi.audit.services import RequestMeta, audit_record

DEVICE_NAME = "authenticator"
MSG_BAD_CODE = _("动态验证码错误或已过期，请重新输入")
MSG_BAD_PASSWORD = _("密码错误")
MSG_ROLE_REQUIRES = _("您的角色要求启用双因素认证，不能停用")


def has_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def role_requires_2fa(user: User) -> bool:
    return user.roles.filter(require_2fa=True).exists()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device shown on the enrolment page (created on first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The key as authenticator apps expect it when typed in (base32, grouped by four)."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    """An inline SVG QR code of the otpauth:// URL (nothing leaves the server)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2
    )
    return image.to_string(encoding="unicode")


def verify(user: User, code: str) -> TOTPDevice | None:
    """The confirmed device that accepts ``code`` (each code works once), else None."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit():
        return None
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
    return None


def totp_enable(*, user: User, device: TOTPDevice, code: str, meta: RequestMeta) -> bool:
    """Confirm the pending ``device`` with a code from the app; other devices are removed."""
    code = (code or "").strip().replace(" ", "")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if not code.isdigit() or not device.verify_token(code):
            audit_record(
                actor=user,
                action="auth.2fa_enable",
                result="failed",
                obj=user,
                error_code="ERR-017",
                meta=meta,
            )
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        audit_record(
            actor=user, action="auth.2fa_enable", obj=user, params={"method": "totp"}, meta=meta
        )
    return True


def totp_disable(*, user: User, meta: RequestMeta) -> int:
    """Remove the user's devices (the caller has checked the password and the role rule)."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_record(
            actor=user,
            action="auth.2fa_disable",
            obj=user,
            params={"method": "totp", "devices": removed},
            meta=meta,
        )
    return removed


def describe(user: User) -> dict[str, Any]:
    """What the 双因素认证 page shows about the user's current state."""
    return {"enabled": has_totp(user), "required": role_requires_2fa(user)}
