"""Shared pieces of the organisation services: refusal auditing, diffs, system calls.

``actor=None`` marks a system call (seeding the default organisation, test fixtures): there is
no person to check permissions for. Views and the API always pass ``request.user``, which is
never None (an anonymous visitor is ``AnonymousUser`` and is refused).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError

from guanxi.audit.models import AuditResult
from guanxi.audit.services import audit_record
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm

F = TypeVar("F", bound=Callable[..., Any])


def check_perm(actor: Any, perm: str) -> None:
    """``require_perm`` for people; system calls (actor None) are trusted."""
    if actor is not None:
        require_perm(actor, perm)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed (the audit log's shape)."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def refusal_reason(exc: Exception) -> Any:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        return [str(m) for m in exc.messages]
    return str(getattr(exc, "message", exc))


def audited_refusals(action: str, target: str | None = None) -> Callable[[F], F]:
    """A refused or invalid call is audited (outside the rolled-back transaction), then
    re-raised. ``target`` names the keyword argument holding the object acted on."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (DomainError, ValidationError) as exc:
                is_domain = isinstance(exc, DomainError)
                denied = is_domain and exc.status in (401, 403, 404, 409)
                obj = kwargs.get(target) if target else None
                audit_record(
                    actor=kwargs.get("actor"),
                    action=action,
                    result=AuditResult.DENIED if denied else AuditResult.FAILED,
                    obj=obj if getattr(obj, "pk", None) else None,
                    object_type="" if getattr(obj, "pk", None) else (target or ""),
                    error_code=exc.code if is_domain else "ERR-006",
                    params={"reason": refusal_reason(exc)},
                    meta=kwargs.get("meta"),
                )
                raise

        return wrapper  # type: ignore[return-value]

    return decorate


def field_error(field: str, message: Any) -> ValidationError:
    return ValidationError({field: [message]})


def _check(*, actor: Any, perm: str, **_context: Any) -> None:
    check_perm(actor, perm)


def check_perm_audited(
    *, actor: Any, perm: str, action: str, target: str | None = None, meta: Any = None
) -> None:
    """The permission half of a write, for views that refuse before judging the input (the API
    answers 403, not a review of the body, to someone who may not write). A refusal is
    audited exactly as the service's own would be."""
    context = {target: None} if target else {}
    audited_refusals(action, target=target)(_check)(actor=actor, perm=perm, meta=meta, **context)
