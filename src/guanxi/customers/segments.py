"""Segments (客户分群): saved customer-list filters, personal or shared.

A segment stores the list's query parameters only, never customer ids: whoever applies it
(list, export, later campaigns) gets the customers matching those filters within their OWN
data scope, so sharing a segment never shares data. Services and selectors both live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions, register_object_types
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import validators
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.core.field_errors import FieldErrors
from guanxi.core.permissions import require_perm
from guanxi.customers import selectors
from guanxi.customers.filters import CustomerFilter
from guanxi.customers.models import Customer, Segment

MSG_REQUIRED = _("此项为必填项")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_NAME_TAKEN = _("您已有名为“%(name)s”的分群")
MSG_UNKNOWN_PARAM = _("未知的筛选条件")
MSG_BAD_PARAMS = _("筛选条件须为键值对")
MSG_SHARE_DENIED = _("您没有共享分群的权限")
MSG_NOT_YOURS = _("只能修改自己创建的分群")
MSG_UNKNOWN_SEGMENT = _("分群不存在")
# List parameters that are not filters: never stored in a segment.
NOT_FILTERS = ("ordering", "cursor", "limit", "segment", "format", "csrfmiddlewaretoken", "page")

register_actions(
    {
        "segment.create": _("新建客户分群"),
        "segment.update": _("编辑客户分群"),
        "segment.delete": _("删除客户分群"),
    }
)
register_object_types({"segment": _("客户分群")})


# --- selectors -----------------------------------------------------------------------------


def segment_queryset(user: Any) -> QuerySet:
    """The segments ``user`` may see and apply: their own plus the shared ones."""
    if not getattr(user, "is_authenticated", False) or not (
        user.has_perm("customers.view_segment") or user.has_perm("customers.add_segment")
    ):
        return Segment.objects.none()
    return Segment.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def segment_list(*, user: Any) -> list[Segment]:
    return list(segment_queryset(user).order_by("-shared", "name", "id"))


def segment_get(*, user: Any, pk: Any) -> Segment:
    try:
        return segment_queryset(user).get(pk=int(pk))
    except (Segment.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound() from exc


def segment_count(*, user: Any, segment: Segment, cap: int = selectors.COUNT_CAP) -> int:
    """How many customers the segment holds for ``user`` (their scope), as the list counts."""
    return selectors.customer_count(user=user, params=segment_query(segment), cap=cap)


def segment_query(segment: Segment) -> QueryDict:
    """The segment's parameters as the list receives them."""
    query = QueryDict(mutable=True)
    for key, value in (segment.params or {}).items():
        query[key] = str(value)
    return query


def expand_params(user: Any, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` with ``segment=<id>`` replaced by that segment's filters (the other
    parameters given win): how exports and the API apply a segment."""
    raw = params.get("segment")
    if not raw:
        return params
    try:
        segment = segment_get(user=user, pk=raw)
    except NotFound:
        raise ValidationError({"segment": [MSG_UNKNOWN_SEGMENT]}) from None
    merged = segment_query(segment)
    for key in params:
        value = params.get(key)
        if key != "segment" and value not in (None, ""):
            merged[key] = value
    return merged


def editable(user: Any, segment: Segment) -> bool:
    """Owners edit their own; shared segments also by holders of change_segment."""
    if segment.owner_id == user.pk:
        return True
    return segment.shared and user.has_perm("customers.change_segment")


# --- validation ----------------------------------------------------------------------------


def filter_names() -> set[str]:
    return set(CustomerFilter(queryset=Customer.objects.none()).filters)


def _error_key(key: Any) -> str:
    """Where an unknown parameter's error goes: ``params.<name>`` for a name that could be
    a parameter, plain ``params`` for anything else (control characters or broken
    surrogates in a key would make the error body and its audit entry unstorable)."""
    name = str(key)
    return f"params.{name}" if name.isidentifier() and len(name) <= 40 else "params"


def clean_params(raw: Any) -> dict[str, str]:
    """The non-empty filter parameters, each judged by CustomerFilter itself; errors under
    ``params.<name>``. List-only parameters (ordering, cursor ...) are dropped."""
    if isinstance(raw, QueryDict):
        raw = {k: raw.get(k) for k in raw}
    if not isinstance(raw, Mapping):
        raise ValidationError({"params": [MSG_BAD_PARAMS]})
    known = filter_names()
    errors = FieldErrors()
    params: dict[str, str] = {}
    for key, value in raw.items():
        if key in NOT_FILTERS or value in (None, ""):
            continue
        if key not in known:
            errors.add(_error_key(key), MSG_UNKNOWN_PARAM)
        elif isinstance(value, list | dict | bool):
            errors.add(f"params.{key}", MSG_BAD_PARAMS)
        else:
            params[str(key)] = str(value)
    if not errors:
        filterset = CustomerFilter(params, queryset=Customer.objects.none())
        if not filterset.is_valid():
            for key, messages in filterset.errors.items():
                errors.add(f"params.{key}", *[str(m) for m in messages])
    errors.raise_if_any()
    return dict(sorted(params.items()))


def _clean(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if creating or "name" in data:
        name = validators.fold_text(str(data.get("name") or "")).strip()
        if not name:
            errors.add("name", MSG_REQUIRED)
        elif len(name) > 64:
            errors.add("name", MSG_TOO_LONG % {"max": 64})
        cleaned["name"] = name
    if "description" in data:
        text = str(data.get("description") or "").strip()
        if len(text) > 255:
            errors.add("description", MSG_TOO_LONG % {"max": 255})
        cleaned["description"] = text
    if creating or "params" in data:
        with errors.collect():
            cleaned["params"] = clean_params(data.get("params") or {})
    if "shared" in data:
        cleaned["shared"] = bool(data.get("shared"))
    errors.raise_if_any()
    return cleaned


def _name_free(owner_id: int, name: str, exclude: int | None = None) -> None:
    if Segment.objects.filter(owner_id=owner_id, name=name).exclude(pk=exclude).exists():
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": name}]})


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": segment.description,
        "params": segment.params,
        "shared": segment.shared,
    }


# --- services ------------------------------------------------------------------------------


@audited_refusals("segment.create", target="segment")
def segment_create(
    *, actor: Any, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> Segment:
    """Save the list's filters as the actor's segment (shared needs change_segment)."""
    require_perm(actor, "customers.add_segment")
    cleaned = _clean(data, creating=True)
    if cleaned.get("shared") and not actor.has_perm("customers.change_segment"):
        raise PermissionDenied(MSG_SHARE_DENIED)
    _name_free(actor.pk, cleaned["name"])
    try:
        with transaction.atomic():
            segment = Segment.objects.create(**cleaned, owner=actor)
            audit_record(
                actor=actor,
                action="segment.create",
                obj=segment,
                changes={"after": _snapshot(segment)},
                meta=meta,
            )
    except IntegrityError:
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": cleaned["name"]}]}) from None
    return segment


def _locked_editable(actor: Any, segment: Segment) -> Segment:
    current = segment_queryset(actor).select_for_update(of=("self",)).filter(pk=segment.pk)
    found = current.first()
    if found is None:
        raise NotFound()
    if not editable(actor, found):
        raise PermissionDenied(MSG_NOT_YOURS)
    return found


@audited_refusals("segment.update", target="segment")
def segment_update(
    *, actor: Any, segment: Segment, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> Segment:
    """Rename, re-filter or (un)share a segment."""
    require_perm(actor, "customers.add_segment")
    cleaned = _clean(data, creating=False)
    sharing = "shared" in cleaned and cleaned["shared"] != segment.shared
    if sharing and not actor.has_perm("customers.change_segment"):
        raise PermissionDenied(MSG_SHARE_DENIED)
    try:
        with transaction.atomic():
            current = _locked_editable(actor, segment)
            if "name" in cleaned:
                _name_free(current.owner_id, cleaned["name"], exclude=current.pk)
            before = _snapshot(current)
            for key, value in cleaned.items():
                setattr(current, key, value)
            current.updated_at = timezone.now()
            current.save()
            after = _snapshot(current)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changes:
                audit_record(
                    actor=actor, action="segment.update", obj=current, changes=changes, meta=meta
                )
    except IntegrityError:
        raise ValidationError({"name": [MSG_NAME_TAKEN % {"name": cleaned["name"]}]}) from None
    return current


@audited_refusals("segment.delete", target="segment")
def segment_delete(*, actor: Any, segment: Segment, meta: RequestMeta | None = None) -> None:
    require_perm(actor, "customers.add_segment")
    with transaction.atomic():
        current = _locked_editable(actor, segment)
        audit_record(
            actor=actor,
            action="segment.delete",
            obj=current,
            changes={"before": _snapshot(current)},
            meta=meta,
        )
        current.delete()
