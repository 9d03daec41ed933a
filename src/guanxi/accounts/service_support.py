"""Shared pieces of the organisation services: permission checks, diffs, row locks.

``actor=None`` marks a system call (seeding the default organisation, test fixtures): there is
no person to check permissions for. Views and the API always pass ``request.user``, which is
never None (an anonymous visitor is ``AnonymousUser`` and is refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model

from guanxi.core.errors import NotFound
from guanxi.core.permissions import require_perm

M = TypeVar("M", bound=Model)


def check_perm(actor: Any, perm: str) -> None:
    """``require_perm`` for people; system calls (actor None) are trusted."""
    if actor is not None:
        require_perm(actor, perm)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed (the audit log's shape)."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def lock_row(obj: M) -> M:
    """``obj`` re-read under a row lock, so the write works on current values; NotFound when
    someone deleted it meanwhile."""
    try:
        return type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    except ObjectDoesNotExist as exc:
        raise NotFound() from exc
