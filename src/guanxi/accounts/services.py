"""Writes to the organisation: users here; departments and roles in their own modules
(re-exported below so callers have one import path).

Every service checks its permission, validates, runs in one transaction and writes an audit
entry with the before/after diff; refusals are audited too. Locking, disabling, deleting and
resetting a password end the user's sessions and revoke their API tokens in the same
transaction, so a disabled account cannot keep working through an old cookie or token.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.anomaly import check_role_change_burst
from guanxi.accounts.choices import UserStatus
from guanxi.accounts.department_services import (  # noqa: F401  (one import path)
    department_create,
    department_delete,
    department_update,
)
from guanxi.accounts.models import Department, Role, User
from guanxi.accounts.permission_catalog import dotted
from guanxi.accounts.role_services import (  # noqa: F401  (one import path)
    ensure_may_grant,
    role_create,
    role_delete,
    role_save,
    role_set_permissions,
    role_set_scopes,
    role_update,
)
from guanxi.accounts.service_support import check_perm, diff, lock_row
from guanxi.accounts.sessions import end_user_sessions
from guanxi.accounts.tokens import revoke_user_tokens
from guanxi.accounts.user_input import (
    EDITABLE_FIELDS,
    MSG_REQUIRED,
    clean_user_input,
    ensure_unique,
    resolve_roles,
)
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import PermissionDenied
from guanxi.core.field_errors import FieldErrors
from guanxi.core.masking import mask

MSG_DELETED_USER = _("该用户已删除，不能再修改")
MSG_NOT_YOURSELF = _("不能锁定、禁用或删除自己的账号")
MSG_OWN_ROLES = _("不能修改自己的角色，请让其他管理员操作")
MSG_LOCK_REASON = _("请填写锁定原因")
MSG_LOCK_UNTIL_PAST = _("锁定截止时间必须晚于当前时间")
MSG_STATUS_INVALID = _("状态只能是正常、锁定或禁用")
MSG_REASON_TOO_LONG = _("原因不能超过255个字符")
MSG_LOCK_FIELDS = _("仅在状态为“锁定”（locked）时可以填写")

AUDITED_FIELDS = (
    *EDITABLE_FIELDS,
    "status",
    "locked_until",
    "lock_reason",
    "is_active",
    "must_change_password",
)
PERSONAL_FIELDS = ("mobile", "email")
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_SYMBOLS = "!@#$%^&*-_=+"


def snapshot(user: User) -> dict[str, Any]:
    """Audited values; mobile and e-mail masked so the log holds no plaintext."""
    values = {f: getattr(user, f) for f in AUDITED_FIELDS}
    for field in PERSONAL_FIELDS:
        values[field] = mask(field, values[field] or "")
    return values


def role_codes(user: User) -> list[str]:
    return sorted(user.roles.values_list("code", flat=True)) if user.pk else []


def temporary_password(length: int = 14) -> str:
    """A random password with upper, lower, digit and symbol (passes any sane policy)."""
    rng = secrets.SystemRandom()
    chars = [
        rng.choice(string.ascii_uppercase),
        rng.choice(string.ascii_lowercase),
        rng.choice(string.digits),
        rng.choice(_PASSWORD_SYMBOLS),
    ]
    chars += [rng.choice(_PASSWORD_ALPHABET) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


def _set_password(user: User, raw: str, *, must_change: bool) -> None:
    """Through the password policy (length, classes, history) when it is installed."""
    try:
        from guanxi.accounts.password_policy import password_set
    except ImportError:
        password_set = None
    try:
        if password_set is not None:
            password_set(user=user, raw_password=raw, must_change=must_change)
            return
        password_validation.validate_password(raw, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(raw)
    user.must_change_password = must_change
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])


def _ensure_alive(user: User) -> None:
    if user.status == UserStatus.DELETED:
        raise ValidationError({"status": [MSG_DELETED_USER]})


def _ensure_not_self(actor: Any, user: User) -> None:
    if actor is not None and actor.pk == user.pk:
        raise ValidationError({"status": [MSG_NOT_YOURSELF]})


def _cut_access(user: User) -> dict[str, int]:
    """End web sessions and revoke API tokens (inside the caller's transaction)."""
    return {"sessions_ended": end_user_sessions(user), "tokens_revoked": revoke_user_tokens(user)}


# --- create / update --------------------------------------------------------------------


@audited_refusals("user.create", target="user")
def user_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    password: str,
    roles: Iterable[Any] = (),
    must_change_password: bool = False,
    meta: RequestMeta | None = None,
    source: str = "",
) -> User:
    """Create an active user in a department with roles and an initial password."""
    check_perm(actor, "accounts.add_user")
    errors = FieldErrors()
    cleaned = errors.check(clean_user_input, data) or {}
    with errors.collect("roles"):
        role_objs = resolve_roles(roles)
    if not password:
        errors.add("password", MSG_REQUIRED)
    errors.raise_if_any()
    ensure_unique(cleaned)
    ensure_may_grant(actor, permissions_of_roles(role_objs))
    with transaction.atomic():
        user = User(**cleaned, status=UserStatus.ACTIVE, is_active=True)
        user.set_unusable_password()
        user.save(force_insert=True)
        user.roles.set(role_objs)
        _set_password(user, password, must_change=must_change_password)
        after = snapshot(user)
        after["roles"] = sorted(r.code for r in role_objs)
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            changes=diff({}, after),
            params={"source": source} if source else {},
            meta=meta,
        )
    return user


def permissions_of_roles(roles: Iterable[Role]) -> set[str]:
    """Every permission the roles carry, dotted (what granting them would grant)."""
    ids = [r.pk for r in roles]
    if not ids:
        return set()
    return {
        dotted(p) for p in Permission.objects.filter(role__in=ids).select_related("content_type")
    }


def _apply_fields(actor: Any, user: User, data: Mapping[str, Any], meta: Any) -> None:
    cleaned = clean_user_input(data, current=user)
    ensure_unique(cleaned, exclude_id=user.pk)
    before = snapshot(user)
    for field, value in cleaned.items():
        setattr(user, field, value)
    changes = diff(before, snapshot(user))
    if changes:
        user.save()
        audit_record(actor=actor, action="user.update", obj=user, changes=changes, meta=meta)


def _apply_roles(actor: Any, user: User, roles: Iterable[Any], meta: Any) -> bool:
    try:
        wanted = resolve_roles(roles)
    except ValidationError as exc:
        raise ValidationError({"roles": list(exc.messages)}) from exc
    current = list(user.roles.all())
    before = sorted(r.code for r in current)
    after = sorted(r.code for r in wanted)
    if before == after:
        return False
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(MSG_OWN_ROLES)
    have = {r.pk for r in current}
    ensure_may_grant(actor, permissions_of_roles([r for r in wanted if r.pk not in have]))
    user.roles.set(wanted)
    audit_record(
        actor=actor,
        action="user.roles",
        obj=user,
        changes={"roles": [before, after]},
        params={
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
        },
        meta=meta,
    )
    return True


_NOT_PROFILE_FIELDS = ("roles", "status", "locked_until", "lock_reason")


@audited_refusals("user.update", target="user")
def user_update(
    *, actor: Any, user: User, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> User:
    """Edit profile fields, department, roles and status in one transaction.

    ``data`` may hold the editable fields, ``roles`` (codes, names or Role objects) and
    ``status`` (active/locked/disabled); ``locked_until`` and ``lock_reason`` only go with
    status locked.
    """
    check_perm(actor, "accounts.change_user")
    if data.get("status") != UserStatus.LOCKED:
        stray = {f: [MSG_LOCK_FIELDS] for f in ("locked_until", "lock_reason") if f in data}
        if stray:
            raise ValidationError(stray)
    with transaction.atomic():
        current = lock_row(user)
        _ensure_alive(current)
        fields = {k: v for k, v in data.items() if k not in _NOT_PROFILE_FIELDS}
        roles_changed = False
        if fields:
            _apply_fields(actor, current, fields, meta)
        if "roles" in data:
            roles_changed = _apply_roles(actor, current, data["roles"] or [], meta)
        if "status" in data:
            _apply_status(
                actor,
                current,
                data["status"],
                until=data.get("locked_until"),
                reason=data.get("lock_reason") or "",
                meta=meta,
            )
        if roles_changed:
            check_role_change_burst(actor=actor, meta=meta)
    return current


@audited_refusals("user.roles", target="user")
def user_set_roles(
    *, actor: Any, user: User, roles: Iterable[Any], meta: RequestMeta | None = None
) -> User:
    """Replace the user's roles (audited as ``user.roles``; counts toward the anomaly alert)."""
    check_perm(actor, "accounts.change_user")
    with transaction.atomic():
        current = lock_row(user)
        _ensure_alive(current)
        if _apply_roles(actor, current, roles, meta):
            check_role_change_burst(actor=actor, meta=meta)
    return current


# --- status -----------------------------------------------------------------------------


def _apply_status(
    actor: Any, user: User, status: str, *, until: Any, reason: str, meta: Any
) -> None:
    if status == UserStatus.LOCKED:
        _lock(actor, user, until, reason, meta)
    elif status == UserStatus.DISABLED:
        _disable(actor, user, reason, meta)
    elif status == UserStatus.ACTIVE:
        if user.status == UserStatus.LOCKED:
            _unlock(actor, user, meta)
        elif user.status == UserStatus.DISABLED:
            _enable(actor, user, meta)
    else:
        raise ValidationError({"status": [MSG_STATUS_INVALID]})


def _record_status(
    actor: Any, user: User, action: str, before: dict[str, Any], meta: Any, **params: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=user,
        changes=diff(before, snapshot(user)),
        params=params,
        meta=meta,
    )


def _set_status(
    actor: Any,
    user: User,
    action: str,
    meta: Any,
    *,
    cut: bool = False,
    params: dict[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Save ``fields`` and audit the change; ``cut`` then ends the user's sessions and
    revokes their tokens (same transaction) and records how many."""
    before = snapshot(user)
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    params = {**(params or {}), **(_cut_access(user) if cut else {})}
    _record_status(actor, user, action, before, meta, **params)


def _lock(actor: Any, user: User, until: datetime | None, reason: str, meta: Any) -> None:
    _ensure_not_self(actor, user)
    reason = " ".join(str(reason or "").split())
    errors = FieldErrors()
    if not reason:
        errors.add("lock_reason", MSG_LOCK_REASON)
    elif len(reason) > 255:
        errors.add("lock_reason", MSG_REASON_TOO_LONG)
    if until is not None and until <= timezone.now():
        errors.add("locked_until", MSG_LOCK_UNTIL_PAST)
    errors.raise_if_any()
    _set_status(
        actor,
        user,
        "user.lock",
        meta,
        cut=True,
        status=UserStatus.LOCKED,
        locked_until=until,
        lock_reason=reason,
    )


def _unlock(actor: Any, user: User, meta: Any) -> None:
    _set_status(
        actor,
        user,
        "user.unlock",
        meta,
        status=UserStatus.ACTIVE,
        locked_until=None,
        lock_reason="",
    )


def _disable(actor: Any, user: User, reason: str, meta: Any) -> None:
    _ensure_not_self(actor, user)
    _set_status(
        actor,
        user,
        "user.disable",
        meta,
        cut=True,
        params={"reason": reason},
        status=UserStatus.DISABLED,
        is_active=False,
        locked_until=None,
    )


def _enable(actor: Any, user: User, meta: Any) -> None:
    _set_status(
        actor, user, "user.enable", meta, status=UserStatus.ACTIVE, is_active=True, lock_reason=""
    )


def _status_change(actor: Any, user: User, meta: Any, apply: Any, **kwargs: Any) -> User:
    """The shared body of the status services: permission, row lock, alive check, apply."""
    check_perm(actor, "accounts.change_user")
    with transaction.atomic():
        current = lock_row(user)
        _ensure_alive(current)
        apply(actor, current, meta=meta, **kwargs)
    return current


@audited_refusals("user.lock", target="user")
def user_lock(
    *,
    actor: Any,
    user: User,
    until: datetime | None,
    reason: str,
    meta: RequestMeta | None = None,
) -> User:
    """Lock until ``until`` (None: until an admin unlocks); ends sessions, revokes tokens."""
    return _status_change(actor, user, meta, _lock, until=until, reason=reason)


@audited_refusals("user.unlock", target="user")
def user_unlock(*, actor: Any, user: User, meta: RequestMeta | None = None) -> User:
    return _status_change(actor, user, meta, _unlock)


@audited_refusals("user.disable", target="user")
def user_disable(
    *, actor: Any, user: User, reason: str = "", meta: RequestMeta | None = None
) -> User:
    """Disable the account; ends sessions and revokes tokens."""
    return _status_change(actor, user, meta, _disable, reason=reason)


@audited_refusals("user.enable", target="user")
def user_enable(*, actor: Any, user: User, meta: RequestMeta | None = None) -> User:
    return _status_change(actor, user, meta, _enable)


@audited_refusals("user.delete", target="user")
def user_soft_delete(*, actor: Any, user: User, meta: RequestMeta | None = None) -> User:
    """Mark deleted (the row, its history and its username stay); access is cut, and the
    departments it managed lose their manager."""
    check_perm(actor, "accounts.delete_user")
    with transaction.atomic():
        current = lock_row(user)
        _ensure_alive(current)
        _ensure_not_self(actor, current)
        before = snapshot(current)
        current.status = UserStatus.DELETED
        current.deleted_at = timezone.now()
        current.is_active = False
        current.locked_until = None
        current.save(update_fields=["status", "deleted_at", "is_active", "locked_until"])
        managed = list(Department.objects.filter(manager=current).values_list("pk", flat=True))
        Department.objects.filter(pk__in=managed).update(manager=None)
        after = snapshot(current)
        after["deleted_at"] = current.deleted_at
        audit_record(
            actor=actor,
            action="user.delete",
            obj=current,
            changes=diff(before, after),
            params={**_cut_access(current), "managed_departments_cleared": managed},
            meta=meta,
        )
    return current


@audited_refusals("user.reset_password", target="user")
def user_reset_password(*, actor: Any, user: User, meta: RequestMeta | None = None) -> str:
    """Set a random temporary password the user must change at next sign-in; returns it
    (shown once to the admin, never stored or logged)."""
    check_perm(actor, "accounts.change_user")
    with transaction.atomic():
        current = lock_row(user)
        _ensure_alive(current)
        before = snapshot(current)
        raw = temporary_password()
        _set_password(current, raw, must_change=True)
        _record_status(actor, current, "user.reset_password", before, meta, **_cut_access(current))
    return raw


@audited_refusals("user.end_sessions", target="user")
def user_end_sessions(*, actor: Any, user: User, meta: RequestMeta | None = None) -> int:
    """Sign the user out everywhere: every web session and every API token."""
    check_perm(actor, "accounts.change_user")
    with transaction.atomic():
        current = lock_row(user)
        cut = _cut_access(current)
        audit_record(actor=actor, action="user.end_sessions", obj=current, params=cut, meta=meta)
    return cut["sessions_ended"] + cut["tokens_revoked"]
