"""Personal information protection (PIPL) for customers: the lawful basis of what is held,
erasure of a person's data, and the retention rule's purge list.

Erasure anonymises rather than deletes: the customer row stays (with its code, status,
category, industry, region and, as sales arrive, its orders and amounts) so business totals
hold, while the personal values go — contact name, phones, e-mail, ID number, address,
notes, free-text custom values, and, for an individual customer, the name. Blind indexes and
search tokens go with them. The audit log keeps who erased what and why, never the values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.aware_time import storable
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.field_errors import FieldErrors
from guanxi.core.models import CustomField, CustomFieldType
from guanxi.core.permissions import require_perm
from guanxi.core.validators import fold_text
from guanxi.customers.choices import CustomerStatus, CustomerType
from guanxi.customers.contacts import erase_contacts
from guanxi.customers.models import (
    Consent,
    ConsentBasis,
    Customer,
    RetentionCandidate,
    RetentionList,
    RetentionStatus,
)
from guanxi.customers.name_keys import sync_name_keys
from guanxi.customers.services import custom_field_definitions, lock_for_write, refresh_derived
from guanxi.customers.validation import PERSONAL_FIELDS
from guanxi.ops.parameters import system_parameter

PRIVACY_PERM = "customers.handle_privacy_customer"
ANONYMOUS = "（已匿名）"
# Custom field types whose values may describe a person; numbers, amounts, yes/no and
# choices are business attributes and stay.
PERSONAL_CUSTOM_TYPES = (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT, CustomFieldType.DATE)
LIST_LIMIT = 5000

MSG_REASON_REQUIRED = _("请填写原因")
MSG_REQUIRED = _("此项为必填项")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_BAD_BASIS = _("无效的处理依据")
MSG_BAD_TIME = _("请输入有效的时间")
MSG_EXPIRY_BEFORE = _("有效期须晚于取得时间")
MSG_ALREADY_WITHDRAWN = _("该处理依据已撤回")
MSG_ALREADY_ERASED = _("该客户的个人信息已清除")
MSG_LIST_DECIDED = _("该清除清单已处理")

register_actions(
    {
        "customer.consent_record": _("登记个人信息处理依据"),
        "customer.consent_withdraw": _("撤回个人信息处理依据"),
        "customer.erase": _("清除客户个人信息"),
        "customer.subject_export": _("导出个人信息"),
        "retention.list_created": _("生成个人信息清除清单"),
        "retention.approve": _("批准个人信息清除清单"),
        "retention.reject": _("驳回个人信息清除清单"),
    }
)


def retention_idle_days() -> int:
    return int(system_parameter("retention_lost_days"))


# --- lawful basis (consent) ------------------------------------------------------------------


def _when(raw: Any, field: str, errors: FieldErrors, *, required: bool) -> dt.datetime | None:
    if raw in (None, ""):
        if required:
            errors.add(field, MSG_REQUIRED)
        return None
    value = raw if isinstance(raw, dt.datetime) else None
    if value is None and isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    if value is None:
        text = str(raw).strip()
        value = parse_datetime(text) or (
            parse_datetime(f"{text}T00:00:00") if len(text) == 10 else None
        )
    moment = None if value is None else storable(value)
    if moment is None:
        errors.add(field, MSG_BAD_TIME)
    return moment


def _text(raw: Any, field: str, limit: int, errors: FieldErrors, *, required: bool) -> str:
    value = fold_text(str(raw or ""))
    if required and not value:
        errors.add(field, MSG_REQUIRED)
    if len(value) > limit:
        errors.add(field, MSG_TOO_LONG % {"max": limit})
    return value


def clean_consent(data: Mapping[str, Any], *, default_subject: str) -> dict[str, Any]:
    errors = FieldErrors()
    basis = str(data.get("basis") or "")
    if basis not in ConsentBasis.values:
        errors.add("basis", MSG_BAD_BASIS)
    cleaned = {
        "subject_name": _text(
            data.get("subject_name") or default_subject, "subject_name", 64, errors, required=True
        ),
        "basis": basis,
        "scope": _text(data.get("scope"), "scope", 255, errors, required=True),
        "source": _text(data.get("source"), "source", 64, errors, required=True),
        "evidence": _text(data.get("evidence"), "evidence", 255, errors, required=False),
        "given_at": _when(data.get("given_at"), "given_at", errors, required=True),
        "expires_at": _when(data.get("expires_at"), "expires_at", errors, required=False),
    }
    if (
        cleaned["given_at"]
        and cleaned["expires_at"]
        and (cleaned["expires_at"] <= cleaned["given_at"])
    ):
        errors.add("expires_at", MSG_EXPIRY_BEFORE)
    errors.raise_if_any()
    return cleaned


@audited_refusals("customer.consent_record")
def consent_record(
    *, actor: Any, customer: Customer, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> Consent:
    """Record the basis on which a customer's (or its contact person's) data is held; anyone
    who may edit the customer may record it."""
    require_perm(actor, "customers.change_customer")
    with transaction.atomic():
        current = lock_for_write(actor, customer)
        cleaned = clean_consent(data, default_subject=current.contact_name)
        consent = Consent.objects.create(customer=current, recorded_by=actor, **cleaned)
        audit_record(
            actor=actor,
            action="customer.consent_record",
            obj=current,
            params={
                "consent_id": consent.pk,
                "basis": consent.basis,
                "scope": consent.scope,
                "source": consent.source,
            },
            meta=meta,
        )
    return consent


@audited_refusals("customer.consent_withdraw")
def consent_withdraw(
    *, actor: Any, consent: Consent, reason: str, meta: RequestMeta | None = None
) -> Consent:
    """Mark a basis withdrawn (kept as evidence of what was held and when)."""
    require_perm(actor, "customers.change_customer")
    reason = fold_text(reason or "")
    if not reason:
        raise ValidationError({"reason": [MSG_REASON_REQUIRED]})
    with transaction.atomic():
        current = lock_for_write(actor, consent.customer)
        row = Consent.objects.select_for_update().get(pk=consent.pk, customer=current)
        if row.withdrawn_at is not None:
            raise ValidationError({"reason": [MSG_ALREADY_WITHDRAWN]})
        row.withdrawn_at = timezone.now()
        row.withdrawn_reason = reason[:255]
        row.save(update_fields=["withdrawn_at", "withdrawn_reason"])
        audit_record(
            actor=actor,
            action="customer.consent_withdraw",
            obj=current,
            params={"consent_id": row.pk, "reason": row.withdrawn_reason},
            meta=meta,
        )
    return row


# --- erasure -----------------------------------------------------------------------------------


def _anonymise(customer: Customer, fields: list[CustomField]) -> list[str]:
    """Blank the personal values in place; returns the names of the fields that held one."""
    erased = [f for f in PERSONAL_FIELDS if getattr(customer, f)]
    customer.contact_name = ANONYMOUS
    for name in ("mobile", "phone", "email", "id_number", "address", "notes"):
        setattr(customer, name, "")
    if customer.customer_type == CustomerType.INDIVIDUAL:
        erased.append("name")
        customer.name = f"已匿名客户{customer.code}"
        if customer.uscc:
            erased.append("uscc")
        customer.uscc = ""
    personal_keys = {f.key for f in fields if f.field_type in PERSONAL_CUSTOM_TYPES}
    stored = dict(customer.custom_fields or {})
    for key in sorted(personal_keys & stored.keys()):
        erased.append(f"custom_fields.{key}")
        stored.pop(key)
    customer.custom_fields = stored
    return erased


def _erase_locked(
    actor: Any, current: Customer, reason: str, meta: RequestMeta | None, **params: Any
) -> Customer:
    if current.erased_at is not None:
        raise ValidationError({"reason": [MSG_ALREADY_ERASED]})
    fields = custom_field_definitions()
    core_before = current.name_core
    erased = _anonymise(current, fields)
    refresh_derived(current, [f for f in fields if f.is_active])
    now = timezone.now()
    current.erased_at = now
    current.version += 1
    current.updated_by, current.updated_at = actor, now
    current.save()
    if current.name_core != core_before:
        sync_name_keys([(current.pk, current.name_core)])
    Consent.objects.filter(customer=current).update(subject_name=ANONYMOUS)
    erased_contacts = erase_contacts(current, ANONYMOUS)
    audit_record(
        actor=actor,
        action="customer.erase",
        obj=current,
        params={"reason": reason, "fields": erased, "contacts": erased_contacts, **params},
        meta=meta,
    )
    return current


@audited_refusals("customer.erase")
def customer_erase(
    *, actor: Any, customer: Customer, reason: str, meta: RequestMeta | None = None
) -> Customer:
    """Erase a customer's personal data (a data subject's request, or a decision of the data
    admin); the business record stays, anonymised. Not undoable."""
    require_perm(actor, PRIVACY_PERM)
    reason = fold_text(reason or "")
    if not reason:
        raise ValidationError({"reason": [MSG_REASON_REQUIRED]})
    with transaction.atomic():
        current = lock_for_write(actor, customer)
        return _erase_locked(actor, current, reason[:500], meta)


# --- retention: the purge list -------------------------------------------------------------


def retention_due(now: dt.datetime | None = None) -> QuerySet:
    """Live 流失 customers, not yet erased, with no activity (follow-up, edit, status change)
    for ``GUANXI_RETENTION_LOST_DAYS``; annotated with ``last_activity``."""
    limit = (now or timezone.now()) - dt.timedelta(days=retention_idle_days())
    return (
        Customer.objects.alive()
        .filter(status=CustomerStatus.LOST, erased_at__isnull=True)
        .annotate(last_activity=Coalesce("last_follow_up_at", "updated_at"))
        .filter(last_activity__lt=limit, updated_at__lt=limit)
    )


def build_retention_list(now: dt.datetime | None = None) -> RetentionList | None:
    """The daily job: while no list waits for a decision, put every customer past the rule
    (up to LIST_LIMIT) on a new one and tell the privacy officers. None when nothing is due
    or a list is pending."""
    from django.urls import reverse

    from guanxi.workflow.notifications import holders, notify

    if retention_idle_days() == 0:  # the rule is off
        return None
    if RetentionList.objects.filter(status=RetentionStatus.PENDING).exists():
        return None
    rows = list(
        retention_due(now)
        .order_by("last_activity", "pk")
        .values_list("pk", "last_activity")[:LIST_LIMIT]
    )
    if not rows:
        return None
    with transaction.atomic():
        purge_list = RetentionList.objects.create(
            rule={"status": CustomerStatus.LOST, "idle_days": retention_idle_days()}
        )
        RetentionCandidate.objects.bulk_create(
            [
                RetentionCandidate(retention_list=purge_list, customer_id=pk, last_activity_at=at)
                for pk, at in rows
            ]
        )
        audit_record(
            actor=None,
            action="retention.list_created",
            obj=purge_list,
            params={"candidates": len(rows), **purge_list.rule},
        )
        notify(
            holders(PRIVACY_PERM),
            kind="retention",
            title=f"个人信息清除清单待审批（{len(rows)} 个客户）",
            body="流失且长期无互动的客户已达到保留期限，请审核清单后批准清除或驳回。",
            url=reverse("customers:retention_detail", args=[purge_list.pk]),
        )
    return purge_list


def _locked_pending(retention_list: RetentionList) -> RetentionList:
    try:
        locked = RetentionList.objects.select_for_update().get(pk=retention_list.pk)
    except RetentionList.DoesNotExist as exc:
        raise NotFound() from exc
    if locked.status != RetentionStatus.PENDING:
        raise DomainError(MSG_LIST_DECIDED, code="ERR-023")
    return locked


@audited_refusals("retention.approve")
def retention_approve(
    *,
    actor: Any,
    retention_list: RetentionList,
    keep_ids: Iterable[int] = (),
    comment: str = "",
    meta: RequestMeta | None = None,
) -> RetentionList:
    """Erase the personal data of every listed customer but those kept (``keep_ids``) and
    those no longer due (back in use, restored, erased meanwhile)."""
    require_perm(actor, PRIVACY_PERM)
    keep = {int(pk) for pk in keep_ids}
    with transaction.atomic():
        locked = _locked_pending(retention_list)
        candidates = list(locked.candidates.all())
        due = set(
            retention_due()
            .filter(pk__in=[c.customer_id for c in candidates])
            .values_list("pk", flat=True)
        )
        erased = 0
        for candidate in candidates:
            candidate.excluded = candidate.customer_id in keep
            if not candidate.excluded and candidate.customer_id in due:
                customer = Customer.objects.select_for_update().get(pk=candidate.customer_id)
                _erase_locked(
                    actor,
                    customer,
                    f"保留期满（清除清单 #{locked.pk}）",
                    meta,
                    retention_list_id=locked.pk,
                )
                candidate.erased = True
                erased += 1
        RetentionCandidate.objects.bulk_update(candidates, ["excluded", "erased"])
        locked.status = RetentionStatus.APPROVED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.comment = fold_text(comment or "")[:500]
        locked.erased_count = erased
        locked.save()
        audit_record(
            actor=actor,
            action="retention.approve",
            obj=locked,
            params={"erased": erased, "kept": sorted(keep), "comment": locked.comment},
            meta=meta,
        )
    return locked


@audited_refusals("retention.reject")
def retention_reject(
    *, actor: Any, retention_list: RetentionList, comment: str, meta: RequestMeta | None = None
) -> RetentionList:
    """Decline the whole list (nothing is erased); a reason is required."""
    require_perm(actor, PRIVACY_PERM)
    comment = fold_text(comment or "")
    if not comment:
        raise ValidationError({"comment": [MSG_REASON_REQUIRED]})
    with transaction.atomic():
        locked = _locked_pending(retention_list)
        locked.status = RetentionStatus.REJECTED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.comment = comment[:500]
        locked.save()
        audit_record(
            actor=actor,
            action="retention.reject",
            obj=locked,
            params={"comment": locked.comment},
            meta=meta,
        )
    return locked
