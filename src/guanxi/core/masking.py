"""How personal values look to someone who may not see them in full."""

from __future__ import annotations


def mask_mobile(value: str) -> str:
    """13812345678 → 138****5678."""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_phone(value: str) -> str:
    """010-12345678 → 010-****5678 (area code and last four kept)."""
    area, sep, rest = value.partition("-")
    if not sep:
        return mask_mobile(value)
    subscriber = rest.split("-")[0]
    return f"{area}-****{subscriber[-4:]}"


def mask_email(value: str) -> str:
    """zhangsan@example.com → z***n@example.com."""
    local, sep, domain = value.partition("@")
    if not sep:
        return "***"
    shown = local[0] + "***" + (local[-1] if len(local) > 1 else "")
    return f"{shown}@{domain}"


def mask_middle(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """USCC / ID numbers: keep both ends, hide the middle."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


MASKERS = {
    "mobile": mask_mobile,
    "phone": mask_phone,
    "email": mask_email,
    "uscc": mask_middle,
    "id_number": lambda v: mask_middle(v, 6, 4),
}


def mask(field: str, value: str) -> str:
    return MASKERS[field](value) if value else ""
