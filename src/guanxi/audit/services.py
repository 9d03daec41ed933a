"""Writing audit entries. Called inside the service's transaction so the entry and the
change commit (or roll back) together; refusals are written in their own transaction.

Each entry's ``entry_hash`` is a keyed HMAC over everything the audit page shows, chained
through ``prev_hash``; ``guanxi.audit.verify`` walks the chain. See docs/audit.md.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from guanxi.audit.models import AuditChainHead, AuditEntry, AuditResult
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RequestMeta:
    """Where an action came from; views and API build it from the request."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: Any) -> RequestMeta:
        ip = normalize_ip(request.META.get("REMOTE_ADDR"))
        return cls(ip=ip, user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:255])


def normalize_ip(value: Any) -> str | None:
    """The address as the database gives it back (PostgreSQL ``inet`` lower-cases and
    compresses IPv6), so the hash computed before the insert matches the stored row;
    anything that is not an address is dropped rather than failing the audited action."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


# Version 2 covers every column the audit page shows (user agent and object name too) and is
# keyed: without the key (kept outside the database) a DBA who edits a row cannot recompute a
# valid chain. The version is inside the hashed payload so a future form never collides.
HASH_VERSION = 2
HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_username",
    "ip",
    "user_agent",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "params",
    "result",
    "error_code",
    "prev_hash",
)


@lru_cache(maxsize=2)
def _chain_key(spec: str) -> bytes:
    """A key for the chain only, derived from the blind-index key (which lives with the
    encryption keys outside the database and, unlike them, is never rotated)."""
    return hmac.new(base64.b64decode(spec), b"guanxi.audit.chain", hashlib.sha256).digest()


def canonical(values: Mapping[str, Any]) -> bytes:
    """The exact bytes an entry's hash covers: the hashed columns as sorted, compact JSON."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = values["occurred_at"].astimezone(UTC).isoformat()
    payload["v"] = HASH_VERSION
    # Every value is JSON-native by now (``_jsonable`` ran on the JSON columns).
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_values(values: Mapping[str, Any]) -> str:
    """``entry_hash`` for a row given as a mapping of the hashed columns (verify's fast path)."""
    key = _chain_key(settings.BLIND_INDEX_KEY)
    return hmac.digest(key, canonical(values), "sha256").hex()


def entry_digest(entry: AuditEntry) -> str:
    return digest_values({name: getattr(entry, name) for name in HASHED_FIELDS})


# A JSON "\u0000" escape not itself escaped (an even run of backslashes before it).
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data that every database stores: PostgreSQL's jsonb refuses
    NUL characters and UTF-8 refuses lone surrogates, and refused input (a refusal is
    audited with what was sent) must never turn into a failed audit write."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    text = _NUL_ESCAPE.sub(r"\1\\ufffd", text)
    text = text.encode("utf-8", "replace").decode("utf-8")
    return json.loads(text)


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
        # Values are cut to their column sizes before hashing: the hash must cover exactly
        # what the database keeps (PostgreSQL would refuse an overlong value anyway).
        entry = AuditEntry(
            actor=user,
            actor_username=(getattr(user, "username", "") or "")[:150],
            ip=normalize_ip(meta.ip),
            user_agent=(meta.user_agent or "")[:255],
            action=action[:64],
            object_type=str(object_type or "")[:64],
            object_id=str(object_id or "")[:64],
            object_repr=str(object_repr)[:255],
            changes=_jsonable(changes or {}),
            params=_jsonable(params or {}),
            result=result,
            error_code=(error_code or "")[:16],
            prev_hash=head.last_hash,
        )
        entry.entry_hash = entry_digest(entry)
        entry.save(force_insert=True)
        head.last_hash = entry.entry_hash
        head.last_entry_id = entry.pk
        head.save(update_fields=["last_hash", "last_entry_id"])
    return entry


def audited_refusals(action: str, target: str | None = None) -> Callable[[F], F]:
    """Decorator for services: a refused or invalid call is audited, then re-raised.

    It wraps outside the service's own transaction, so the entry survives the rollback.
    ``target`` names the keyword argument holding the object acted on (default: ``customer``
    or ``obj``); when it holds nothing saved (a create), the entry still names its type.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (DomainError, ValidationError) as exc:
                is_domain = isinstance(exc, DomainError)
                denied = is_domain and exc.status in (401, 403, 404, 409)
                obj, object_type = kwargs.get("customer") or kwargs.get("obj"), ""
                if target:
                    obj = kwargs.get(target)
                    if getattr(obj, "pk", None) is None:
                        obj, object_type = None, target
                audit_record(
                    actor=kwargs.get("actor"),
                    action=action,
                    result=AuditResult.DENIED if denied else AuditResult.FAILED,
                    obj=obj,
                    object_type=object_type,
                    error_code=exc.code if is_domain else "ERR-006",
                    params={"reason": _reason(exc)},
                    meta=kwargs.get("meta"),
                )
                raise

        return wrapper  # type: ignore[return-value]

    return decorate


def _require_perm(*, actor: Any, perm: str, **_context: Any) -> None:
    require_perm(actor, perm)


def require_perm_audited(
    *,
    actor: Any,
    perm: str,
    action: str,
    target: str | None = None,
    meta: RequestMeta | None = None,
    **context: Any,
) -> None:
    """The permission half of a write, for doors that refuse before judging the input (a
    caller who may not write gets 403, not a review of the body). A refusal is audited exactly
    as the write service's own would be: ``target`` and ``context`` name the object as the
    service's keyword arguments do (``customer=...``; see ``audited_refusals``)."""
    audited_refusals(action, target=target)(_require_perm)(
        actor=actor, perm=perm, meta=meta, **context
    )


def _reason(exc: Exception) -> Any:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        return [str(m) for m in exc.messages]
    return str(exc)
