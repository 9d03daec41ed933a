"""Writing audit entries. Called inside the service's transaction so the entry and the
change commit (or roll back) together; refusals are written in their own transaction."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from guanxi.audit.models import AuditChainHead, AuditEntry, AuditResult
from guanxi.core.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from; views and API build it from the request."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: Any) -> RequestMeta:
        ip = request.META.get("REMOTE_ADDR") or None
        return cls(ip=ip, user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:255])


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor_id,
        "actor_username": entry.actor_username,
        "ip": entry.ip,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "changes": entry.changes,
        "params": entry.params,
        "result": entry.result,
        "error_code": entry.error_code,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def entry_digest(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def audit_record(
    *,
    actor: Any,
    action: str,
    result: str = AuditResult.SUCCESS,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    error_code: str = "",
    meta: RequestMeta | None = None,
) -> AuditEntry:
    """Append one entry to the hash chain (inside the caller's transaction when there is one)."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    meta = meta or RequestMeta()
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            actor=user,
            actor_username=getattr(user, "username", "") or "",
            ip=meta.ip,
            user_agent=meta.user_agent,
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            object_repr=str(object_repr)[:255],
            changes=_jsonable(changes or {}),
            params=_jsonable(params or {}),
            result=result,
            error_code=error_code,
            prev_hash=head.last_hash,
        )
        entry.entry_hash = entry_digest(entry)
        entry.save(force_insert=True)
        head.last_hash = entry.entry_hash
        head.last_entry_id = entry.pk
        head.save(update_fields=["last_hash", "last_entry_id"])
    return entry


def audited_refusals(action: str) -> Callable[[F], F]:
    """Decorator for services: a refused or invalid call is audited, then re-raised.

    It wraps outside the service's own transaction, so the entry survives the rollback.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (DomainError, ValidationError) as exc:
                is_domain = isinstance(exc, DomainError)
                denied = is_domain and exc.status in (401, 403, 404, 409)
                target = kwargs.get("customer") or kwargs.get("obj")
                audit_record(
                    actor=kwargs.get("actor"),
                    action=action,
                    result=AuditResult.DENIED if denied else AuditResult.FAILED,
                    obj=target,
                    error_code=exc.code if is_domain else "ERR-006",
                    params={"reason": _reason(exc)},
                    meta=kwargs.get("meta"),
                )
                raise

        return wrapper  # type: ignore[return-value]

    return decorate


def _reason(exc: Exception) -> Any:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        return [str(m) for m in exc.messages]
    return str(exc)
