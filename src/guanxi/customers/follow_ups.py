"""Every write to follow-ups (跟进记录) and hand-recorded interactions (互动记录).

A follow-up hangs on its customer: writing one needs the customer inside the actor's write
scope (else "not found"), and keeps the customer's ``last_follow_up_at`` / ``next_follow_up_at``
equal to its latest follow-up's times in the same transaction. Those two columns are derived
data, not an edit of the customer, so they change by UPDATE without a version bump or a
customer audit entry (a follow-up must never make someone's open customer edit stale).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.aware_time import storable
from guanxi.core.dictionaries import resolve_dictionary_value
from guanxi.core.errors import NotFound, PermissionDenied, StaleVersion
from guanxi.core.field_errors import FieldErrors
from guanxi.core.permissions import require_perm
from guanxi.core.scopes import OWN, effective_scope
from guanxi.customers.models import Contact, Customer, FollowUp, Interaction
from guanxi.customers.signals import customer_data_changed

METHOD_DICT = "followup_method"
RESULT_DICT = "followup_result"
KIND_DICT = "interaction_kind"
# A clock a few minutes ahead on the user's phone is not an error; a date next week is.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
CONTENT_MAX = 5000
PLAN_MAX = 255
SUBJECT_MAX = 128

MSG_METHOD_REQUIRED = _("请选择跟进方式")
MSG_METHOD_UNKNOWN = _("跟进方式“%(value)s”不在数据字典中")
MSG_RESULT_UNKNOWN = _("跟进结果“%(value)s”不在数据字典中")
MSG_CONTENT_REQUIRED = _("请填写跟进内容")
MSG_TOO_LONG = _("内容过长，最多 %(max)s 个字符")
MSG_TIME_INVALID = _("请输入有效的时间，例如 2026-05-01 14:30")
MSG_TIME_REQUIRED = _("请填写跟进时间")
MSG_FUTURE = _("时间不能晚于当前时间")
MSG_NEXT_NOT_AFTER = _("下次跟进时间须晚于本次跟进时间")
MSG_CONTACT_FOREIGN = _("该联系人不属于此客户")
MSG_NOT_AUTHOR = _("只有跟进人本人或上级可以修改这条跟进记录")
MSG_KIND_REQUIRED = _("请选择互动类型")
MSG_KIND_UNKNOWN = _("互动类型“%(value)s”不在数据字典中")
MSG_SUBJECT_REQUIRED = _("请填写互动主题")

FOLLOW_UP_FIELDS = (
    "contact_id",
    "method",
    "result",
    "content",
    "followed_at",
    "next_follow_up_at",
    "next_plan",
)


def _as_datetime(value: Any) -> dt.datetime | None:
    """A datetime from a datetime or an ISO string; naive values are in the current zone."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = parse_datetime(value.strip().replace(" ", "T", 1))
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        raise ValueError(value)
    moment = storable(value)
    if moment is None:
        raise ValueError(value)
    return moment


def _clean_time(errors: FieldErrors, field: str, value: Any) -> dt.datetime | None:
    try:
        return _as_datetime(value)
    except (ValueError, TypeError, OverflowError):
        errors.add(field, MSG_TIME_INVALID)
        return None


def _clean_text(errors: FieldErrors, field: str, value: Any, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        errors.add(field, MSG_TOO_LONG % {"max": limit})
    return text


def _clean_dictionary(
    errors: FieldErrors, field: str, dict_code: str, value: Any, unknown: Any
) -> str:
    text = str(value or "").strip()
    code = resolve_dictionary_value(dict_code, text)
    if code is None:
        errors.add(field, unknown % {"value": text[:32]})
        return ""
    return code


def clean_follow_up(
    customer: Customer, values: Mapping[str, Any], *, kept_contact: int | None = None
) -> dict[str, Any]:
    """The full set of follow-up fields, validated together (every bad field reported).
    ``kept_contact`` (an edit's unchanged contact) is not checked again: it may since have
    been deleted, which must not block correcting the text."""
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if not str(values.get("method") or "").strip():
        errors.add("method", MSG_METHOD_REQUIRED)
    else:
        cleaned["method"] = _clean_dictionary(
            errors, "method", METHOD_DICT, values["method"], MSG_METHOD_UNKNOWN
        )
    cleaned["result"] = _clean_dictionary(
        errors, "result", RESULT_DICT, values.get("result"), MSG_RESULT_UNKNOWN
    )
    cleaned["content"] = _clean_text(errors, "content", values.get("content"), CONTENT_MAX)
    if not cleaned["content"] and "content" not in errors:
        errors.add("content", MSG_CONTENT_REQUIRED)
    cleaned["next_plan"] = _clean_text(errors, "next_plan", values.get("next_plan"), PLAN_MAX)
    followed_at = _clean_time(errors, "followed_at", values.get("followed_at"))
    if followed_at is None and "followed_at" not in errors:
        errors.add("followed_at", MSG_TIME_REQUIRED)
    elif followed_at is not None and followed_at > timezone.now() + FUTURE_TOLERANCE:
        errors.add("followed_at", MSG_FUTURE)
    next_at = _clean_time(errors, "next_follow_up_at", values.get("next_follow_up_at"))
    if next_at is not None and followed_at is not None and next_at <= followed_at:
        errors.add("next_follow_up_at", MSG_NEXT_NOT_AFTER)
    cleaned["followed_at"], cleaned["next_follow_up_at"] = followed_at, next_at
    contact = values.get("contact_id")
    if contact in (None, "") or str(contact) != str(kept_contact):
        contact = _clean_contact(errors, customer, contact)
    cleaned["contact_id"] = contact
    errors.raise_if_any()
    return cleaned


def _clean_contact(errors: FieldErrors, customer: Customer, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        pk = None
    if pk is None or not Contact.objects.alive().filter(pk=pk, customer_id=customer.pk).exists():
        errors.add("contact_id", MSG_CONTACT_FOREIGN)
        return None
    return pk


def _customer_for_write(actor: Any, customer_id: Any) -> Customer:
    """The live customer under a row lock, within the actor's write scope (else NotFound):
    concurrent follow-ups of one customer then update its stamps one after the other."""
    try:
        return (
            Customer.objects.select_for_update()
            .alive()
            .restrict(actor, "change")
            .only("id", "owner_id", "department_id", "last_follow_up_at", "next_follow_up_at")
            .get(pk=int(customer_id))
        )
    except (Customer.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
        raise NotFound() from exc


def refresh_customer_stamps(customer_id: int) -> None:
    """Set the customer's last/next follow-up time from its latest live follow-up (or clear
    them). A plain UPDATE: derived columns, no version bump, no customer audit entry."""
    latest = (
        FollowUp.objects.alive()
        .filter(customer_id=customer_id)
        .order_by("-followed_at", "-id")
        .values_list("followed_at", "next_follow_up_at")
        .first()
    )
    last_at, next_at = latest or (None, None)
    Customer.objects.filter(pk=customer_id).update(
        last_follow_up_at=last_at, next_follow_up_at=next_at
    )


def _announce(customer_id: int, reason: str) -> None:
    transaction.on_commit(
        lambda: customer_data_changed.send(
            sender=FollowUp, customer_ids=[customer_id], reason=reason
        )
    )


def snapshot(follow_up: FollowUp) -> dict[str, Any]:
    return {f: getattr(follow_up, f) for f in FOLLOW_UP_FIELDS}


@audited_refusals("follow_up.create", target="follow_up")
def follow_up_create(
    *,
    actor: Any,
    customer_id: Any,
    data: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> FollowUp:
    """Record a follow-up by ``actor`` (跟进人) on a customer in their write scope."""
    require_perm(actor, "customers.add_followup")
    with transaction.atomic():
        customer = _customer_for_write(actor, customer_id)
        values = dict(data)
        if values.get("followed_at") in (None, ""):  # not given: it happened just now
            values["followed_at"] = timezone.now()
        cleaned = clean_follow_up(customer, values)
        now = timezone.now()
        follow_up = FollowUp.objects.create(
            customer=customer,
            owner=actor,
            created_by=actor,
            updated_by=actor,
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        refresh_customer_stamps(customer.pk)
        audit_record(
            actor=actor,
            action="follow_up.create",
            obj=follow_up,
            object_type="follow_up",
            changes={k: [None, v] for k, v in snapshot(follow_up).items() if v not in (None, "")},
            params={"customer_id": customer.pk},
            meta=meta,
        )
        _announce(customer.pk, "follow_up")
    return follow_up


def may_edit(actor: Any, follow_up: FollowUp) -> bool:
    """The author edits their own follow-ups; others need a write scope wider than their own
    records (a manager over the team). The row must be in the write scope as well."""
    if follow_up.owner_id == actor.pk:
        return True
    scope = effective_scope(actor, "change", Customer.scope_object_type)
    return scope is not None and scope != OWN


@audited_refusals("follow_up.update", target="follow_up")
def follow_up_update(
    *,
    actor: Any,
    follow_up: FollowUp,
    data: Mapping[str, Any],
    version: int | None = None,
    meta: RequestMeta | None = None,
) -> FollowUp:
    """Edit a follow-up (fields not given keep their values); ``version`` guards against
    overwriting someone else's edit."""
    require_perm(actor, "customers.change_followup")
    with transaction.atomic():
        try:
            current = (
                FollowUp.objects.select_for_update()
                .alive()
                .restrict(actor, "change")
                .filter(customer__deleted_at__isnull=True)
                .get(pk=follow_up.pk)
            )
        except FollowUp.DoesNotExist as exc:
            raise NotFound() from exc
        if not may_edit(actor, current):
            raise PermissionDenied(MSG_NOT_AUTHOR)
        if version is not None and current.version != version:
            raise StaleVersion(current=current)
        customer = _customer_for_write(actor, current.customer_id)
        before = snapshot(current)
        merged = {**before, **{k: v for k, v in data.items() if k in FOLLOW_UP_FIELDS}}
        cleaned = clean_follow_up(customer, merged, kept_contact=current.contact_id)
        for field, value in cleaned.items():
            setattr(current, field, value)
        after = snapshot(current)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            current.version += 1
            current.updated_by = actor
            current.updated_at = timezone.now()
            current.save()
            refresh_customer_stamps(customer.pk)
            audit_record(
                actor=actor,
                action="follow_up.update",
                obj=current,
                object_type="follow_up",
                changes=changes,
                params={"customer_id": customer.pk},
                meta=meta,
            )
            _announce(customer.pk, "follow_up")
    return current


def clean_interaction(values: Mapping[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    if not str(values.get("kind") or "").strip():
        errors.add("kind", MSG_KIND_REQUIRED)
    else:
        cleaned["kind"] = _clean_dictionary(
            errors, "kind", KIND_DICT, values["kind"], MSG_KIND_UNKNOWN
        )
    cleaned["subject"] = _clean_text(errors, "subject", values.get("subject"), SUBJECT_MAX)
    if not cleaned["subject"] and "subject" not in errors:
        errors.add("subject", MSG_SUBJECT_REQUIRED)
    cleaned["details"] = _clean_text(errors, "details", values.get("details"), CONTENT_MAX)
    occurred_at = _clean_time(errors, "occurred_at", values.get("occurred_at"))
    if occurred_at is None and "occurred_at" not in errors:
        occurred_at = timezone.now()
    elif occurred_at is not None and occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors.add("occurred_at", MSG_FUTURE)
    cleaned["occurred_at"] = occurred_at
    errors.raise_if_any()
    return cleaned


@audited_refusals("interaction.create", target="interaction")
def interaction_create(
    *,
    actor: Any,
    customer_id: Any,
    data: Mapping[str, Any],
    meta: RequestMeta | None = None,
) -> Interaction:
    """Record an interaction (活动参与, 投诉咨询 ...) handled by ``actor``.

    Needs the customer in the actor's READ scope, not the write scope: the service desk
    records a complaint on any customer it can see without owning the customer.
    """
    require_perm(actor, "customers.add_interaction")
    with transaction.atomic():
        try:
            customer = (
                Customer.objects.alive().restrict(actor, "view").only("id").get(pk=int(customer_id))
            )
        except (Customer.DoesNotExist, TypeError, ValueError, OverflowError) as exc:
            raise NotFound() from exc
        if not actor.has_perm("customers.view_customer"):
            raise NotFound()
        cleaned = clean_interaction(data)
        now = timezone.now()
        interaction = Interaction.objects.create(
            customer=customer,
            staff=actor,
            created_by=actor,
            updated_by=actor,
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        audit_record(
            actor=actor,
            action="interaction.create",
            obj=interaction,
            object_type="interaction",
            changes={k: [None, v] for k, v in cleaned.items() if v},
            params={"customer_id": customer.pk},
            meta=meta,
        )
        _announce(customer.pk, "interaction")
    return interaction


def merge_follow_ups(survivor: Customer, merged: Customer) -> int:
    """Merge handler: the merged customer's follow-ups move to the survivor, whose stamps
    are then recomputed on the object the merge saves afterwards (a plain UPDATE here would
    be overwritten by that save)."""
    moved = FollowUp._base_manager.filter(customer=merged).update(customer=survivor)
    latest = (
        FollowUp.objects.alive()
        .filter(customer_id=survivor.pk)
        .order_by("-followed_at", "-id")
        .values_list("followed_at", "next_follow_up_at")
        .first()
    )
    survivor.last_follow_up_at, survivor.next_follow_up_at = latest or (None, None)
    return moved


def _register_merge_handler() -> None:
    from guanxi.customers.merge import register_merge_handler

    register_merge_handler("customers.FollowUp", merge_follow_ups)


_register_merge_handler()
