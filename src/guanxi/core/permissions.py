"""Permission checks used by services (the one place a refusal is decided)."""

from __future__ import annotations

from typing import Any

from guanxi.core.errors import PermissionDenied


def require_perm(actor: Any, perm: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(perm):
        raise PermissionDenied()
