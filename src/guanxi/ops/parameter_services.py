"""Writes to the system parameters and the company logo: validated, audited before/after."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.permissions import require_perm
from guanxi.ops.parameter_models import SystemParameter
from guanxi.ops.parameters import BY_KEY, Parameter, invalidate, system_parameter

PERM = "ops.manage_system"
LOGO_KEY = "company_logo"
LOGO_MAX_BYTES = 512 * 1024
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
ERR_INT = _("请输入整数。")
ERR_RANGE = _("取值范围为 %(min)s 至 %(max)s。")
ERR_CHOICE = _("请选择列表中的一项。")
ERR_TOO_LONG = _("不能超过 %(max)s 个字符。")
ERR_LOGO = _("请上传 PNG、JPEG、GIF 或 WebP 图片，大小不超过 512 KB。")


def clean_value(parameter: Parameter, raw: Any) -> Any:
    """The typed value, or a ValidationError under the parameter's key naming the rule."""
    if parameter.kind == "int":
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValidationError({parameter.key: ERR_INT}) from None
        lo, hi = parameter.min_value, parameter.max_value
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValidationError({parameter.key: ERR_RANGE % {"min": lo, "max": hi}})
        return value
    if parameter.kind == "choice":
        if raw not in {code for code, _label in parameter.choices}:
            raise ValidationError({parameter.key: ERR_CHOICE})
        return raw
    value = str(raw or "").strip()
    if parameter.max_value is not None and len(value) > parameter.max_value:
        raise ValidationError({parameter.key: ERR_TOO_LONG % {"max": parameter.max_value}})
    problem = parameter.check(value) if parameter.check else ""
    if problem:
        raise ValidationError({parameter.key: problem})
    return value


@audited_refusals("system_parameter.update")
def parameters_update(
    *, actor: Any, data: dict[str, Any], meta: RequestMeta | None = None
) -> dict[str, list[Any]]:
    """Save the parameters in ``data`` that differ from their current values; all or none.
    Returns the changes (key → [before, after]), which the audit entry records."""
    require_perm(actor, PERM)
    values, errors = {}, {}
    for key, raw in data.items():
        if key not in BY_KEY:
            continue
        try:
            values[key] = clean_value(BY_KEY[key], raw)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    changes = {k: [system_parameter(k), v] for k, v in values.items() if system_parameter(k) != v}
    if not changes:
        return {}
    with transaction.atomic():
        for key, (_before, after) in changes.items():
            SystemParameter.objects.update_or_create(
                key=key, defaults={"value": after, "updated_by": actor}
            )
        audit_record(
            actor=actor,
            action="system_parameter.update",
            object_type="systemparameter",
            object_repr=", ".join(changes),
            changes=changes,
            meta=meta,
        )
        transaction.on_commit(invalidate)
    invalidate()
    return changes


@audited_refusals("system_parameter.logo")
def logo_update(*, actor: Any, upload: Any | None, meta: RequestMeta | None = None) -> str:
    """Store an uploaded logo (checked by decoding it) or, with no upload, remove it."""
    require_perm(actor, PERM)
    name = ""
    if upload is not None:
        content = upload.read(LOGO_MAX_BYTES + 1)
        extension = _image_extension(content)
        digest = hashlib.sha256(content).hexdigest()[:16]
        name = default_storage.save(f"branding/logo-{digest}.{extension}", ContentFile(content))
    before = _stored_logo()
    with transaction.atomic():
        SystemParameter.objects.update_or_create(
            key=LOGO_KEY, defaults={"value": name, "updated_by": actor}
        )
        audit_record(
            actor=actor,
            action="system_parameter.logo",
            object_type="systemparameter",
            object_repr=LOGO_KEY,
            changes={LOGO_KEY: [before, name]},
            meta=meta,
        )
        transaction.on_commit(invalidate)
    invalidate()
    return name


def _stored_logo() -> str:
    from guanxi.ops.parameters import stored_values

    return str(stored_values().get(LOGO_KEY) or "")


def _image_extension(content: bytes) -> str:
    """The file extension for a real, small image in an allowed format (Pillow decodes it)."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    if not content or len(content) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": ERR_LOGO})
    try:
        with Image.open(BytesIO(content)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError({"logo": ERR_LOGO}) from None
    if kind not in LOGO_FORMATS:
        raise ValidationError({"logo": ERR_LOGO})
    return LOGO_FORMATS[kind]
