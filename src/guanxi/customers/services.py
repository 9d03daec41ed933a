"""Every write to customers: permission, scope, validation, transaction, version, audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import custom_fields, search_keys
from guanxi.core.errors import (
    DeleteRefused,
    DuplicateRecord,
    ErasedRecord,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from guanxi.core.field_errors import FieldErrors
from guanxi.core.masking import mask
from guanxi.core.models import CustomField
from guanxi.core.permissions import require_perm
from guanxi.core.scopes import ALL, effective_scope
from guanxi.core.validators import name_key
from guanxi.customers import contacts, duplicates, name_match
from guanxi.customers.approvals import (
    ensure_editable,
    rename_needs_approval,
    review_needed,
    submit_new,
    submit_rename,
)
from guanxi.customers.business_hooks import delete_blockers
from guanxi.customers.choices import CustomerStatus, ReviewStatus
from guanxi.customers.codes import next_customer_code
from guanxi.customers.models import Customer, CustomerTag, StatusChange, Tag
from guanxi.customers.name_keys import sync_name_keys
from guanxi.customers.quality_score import COMPLETENESS_FIELDS, completeness
from guanxi.customers.signals import customer_data_changed
from guanxi.customers.validation import (
    EDITABLE_FIELDS,
    SENSITIVE_FIELDS,
    clean_customer_input,
)
from guanxi.workflow import approvals as approvals_engine

MSG_DELETE_OPEN = _("该客户仍有未了结的业务，不能删除：%(reasons)s")
MSG_DELETE_STATUS = _("只有“未合作”状态的客户可以删除，当前状态为“%(status)s”")
MSG_OWNER_INVALID = _("负责人不存在或不在您的管理范围内")
MSG_OUT_OF_SCOPE = _("保存后的记录将超出您的数据范围")
MSG_DUPLICATE_NAME = _("客户名称“%(name)s”已存在")

# Everything a user can edit (but tags, diffed separately) plus what services derive.
AUDITED_FIELDS = (
    *(f for f in EDITABLE_FIELDS if f != "tags"),
    "department_id",
    "review_status",
)
DUPLICATE_FIELDS = (*duplicates.CONTACT_RULES, "name")


def custom_field_definitions(*, active_only: bool = False) -> list[CustomField]:
    return custom_fields.definitions(Customer.scope_object_type, active_only=active_only)


def snapshot(customer: Customer, fields: list[CustomField] | None = None) -> dict[str, Any]:
    """Field values for diffs; personal values are masked so the log holds no plaintext.
    Each custom field is its own entry (``custom_fields.<key>``), so a diff names it."""
    values = {f: getattr(customer, f) for f in AUDITED_FIELDS}
    for field in SENSITIVE_FIELDS:
        values[field] = mask(field, values[field] or "")
    values["tags"] = sorted(t.name for t in customer.tags.all()) if customer.pk else []
    stored = customer.custom_fields or {}
    keys = {f.key for f in (custom_field_definitions() if fields is None else fields)}
    for key in sorted(keys | stored.keys()):
        values[custom_fields.error_key(key)] = stored.get(key)
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def refresh_derived(customer: Customer, fields: list[CustomField] | None = None) -> None:
    """The columns kept from others: the folded name (unique among live customers), the name
    core for similar names, and the search tokens of name, contact and searchable custom
    fields; call after any of those changes, before saving."""
    customer.name_key = name_key(customer.name)
    customer.name_core = name_match.name_core(customer.name)
    if fields is None:
        fields = custom_field_definitions(active_only=True)
    customer.completeness = completeness({f: getattr(customer, f) for f in COMPLETENESS_FIELDS})
    customer.search_tokens = search_keys.document_tokens(
        customer.name,
        customer.contact_name,
        *custom_fields.search_texts(fields, customer.custom_fields or {}),
    )


def reindex_custom_search(key: str) -> int:
    """Refresh the search tokens of customers holding a value for custom field ``key`` (after
    the field was made searchable or not); returns how many were looked at."""
    fields = custom_field_definitions(active_only=True)
    rows = Customer.objects.filter(custom_fields__has_key=key).only(
        "id", "name", "contact_name", "custom_fields", "search_tokens"
    )
    seen = 0
    for customer in rows.iterator(chunk_size=2000):
        tokens = search_keys.document_tokens(
            customer.name,
            customer.contact_name,
            *custom_fields.search_texts(fields, customer.custom_fields or {}),
        )
        if tokens != customer.search_tokens:
            Customer.objects.filter(pk=customer.pk).update(search_tokens=tokens)
        seen += 1
    return seen


def _clean(
    data: Mapping[str, Any],
    fields: list[CustomField],
    *,
    current: Customer | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The base fields and the whole custom field dict (None when not given) of ``data``,
    with the errors of both reported together."""
    errors = FieldErrors()
    cleaned = errors.check(
        lambda: clean_customer_input(
            data,
            current=None if current is None else {f: getattr(current, f) for f in AUDITED_FIELDS},
        )
    )
    custom = None
    if current is None or "custom_fields" in data:
        custom = errors.check(
            lambda: custom_fields.clean_values(
                fields,
                data.get("custom_fields"),
                current=None if current is None else current.custom_fields,
                creating=current is None,
            )
        )
    errors.raise_if_any()
    return cleaned or {}, custom


def name_race_lost(name: str) -> DuplicateRecord:
    """The refusal when the duplicate check passed but a concurrent write took the name
    first (the live-name constraint raised IntegrityError)."""
    return DuplicateRecord(
        MSG_DUPLICATE_NAME % {"name": name}, duplicates=[], hidden_count=1, matched_on=["name"]
    )


def _resolve_owner(actor: Any, owner_id: Any) -> User:
    """The actor, or a user the actor may assign customers to (within their write scope)."""
    if owner_id in (None, "", actor.pk):
        return actor
    try:
        owner = User.objects.select_related("department").get(pk=int(owner_id), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        owner = None
    scope = effective_scope(actor, "change", Customer.scope_object_type)
    allowed = owner is not None and (
        scope == ALL
        or (
            scope in ("department", "department_tree")
            and owner.department_id is not None
            and _department_visible(actor, owner.department_id, scope)
        )
    )
    if not allowed:
        raise ValidationError({"owner_id": [MSG_OWNER_INVALID]})
    return owner


def _department_visible(actor: Any, department_id: int, scope: str) -> bool:
    from guanxi.core.scopes import department_ids

    return department_id in department_ids(actor, with_descendants=scope == "department_tree")


def _set_tags(customer: Customer, names: list[str]) -> None:
    """The customer's manual tags become ``names``; rule-set tags (customers.tag_rules) stay
    whatever the form sent, since they come and go with their rule."""
    wanted = {str(n).strip() for n in names if str(n).strip()}
    existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    for name in wanted - existing.keys():
        existing[name] = Tag.objects.create(name=name[:32])
    CustomerTag.objects.filter(customer=customer, rule__isnull=True).exclude(
        tag__name__in=wanted
    ).delete()
    have = set(CustomerTag.objects.filter(customer=customer).values_list("tag__name", flat=True))
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag=existing[n]) for n in wanted - have]
    )


def announce_change(customer_ids: list[int], reason: str) -> None:
    """After the current transaction commits, tell listeners (rule-based tags ...) that
    these customers changed."""
    transaction.on_commit(
        lambda: customer_data_changed.send(
            sender=Customer, customer_ids=customer_ids, reason=reason
        )
    )


def _ensure_in_write_scope(actor: Any, customer: Customer) -> None:
    if not Customer.objects.restrict(actor, "change").filter(pk=customer.pk).exists():
        raise PermissionDenied(MSG_OUT_OF_SCOPE)


@audited_refusals("customer.create")
def customer_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    meta: RequestMeta | None = None,
    confirm_duplicates: bool = True,
) -> Customer:
    """Create a customer owned by the actor (or an assignable owner); pending unless the
    actor may approve customers.

    Blocking duplicates refuse the save (ERR-012). Non-blocking ones are returned on
    ``customer.duplicate_warnings``, or, with ``confirm_duplicates=False`` (a form that asks
    first), stop the save with UnconfirmedDuplicates."""
    require_perm(actor, "customers.add_customer")
    fields = custom_field_definitions()
    cleaned, custom = _clean(data, fields)
    owner = _resolve_owner(actor, cleaned.pop("owner_id", None))
    tags = cleaned.pop("tags", None) or []
    report = duplicates.raise_if_duplicates(actor, cleaned, None)
    if report.warnings and not confirm_duplicates:
        raise duplicates.UnconfirmedDuplicates(report.warnings)
    now = timezone.now()
    customer = Customer(
        **cleaned,
        owner=owner,
        department_id=owner.department_id,
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
        review_status=ReviewStatus.PENDING if review_needed(actor) else ReviewStatus.APPROVED,
        custom_fields=custom or {},
    )
    refresh_derived(customer, [f for f in fields if f.is_active])
    try:
        with transaction.atomic():
            customer.code = next_customer_code(now)
            customer.save(force_insert=True)
            sync_name_keys([(customer.pk, customer.name_core)], fresh=True)
            _set_tags(customer, tags)
            contacts.primary_from_customer(customer, actor)
            StatusChange.objects.create(
                customer=customer,
                from_status="",
                to_status=customer.status,
                changed_by=actor,
                changed_at=now,
                ip=(meta or RequestMeta()).ip,
            )
            _ensure_in_write_scope(actor, customer)
            audit_record(
                actor=actor,
                action="customer.create",
                obj=customer,
                changes=diff({}, snapshot(customer, fields)),
                params=_warning_params(report),
                meta=meta,
            )
            if customer.review_status == ReviewStatus.PENDING:
                submit_new(actor=actor, customer=customer, meta=meta)
            announce_change([customer.pk], "customer.create")
    except IntegrityError as exc:
        raise name_race_lost(customer.name) from exc
    customer.duplicate_warnings = report.warnings
    return customer


def _warning_params(report: duplicates.DuplicateReport) -> dict[str, Any] | None:
    """What the saver was warned about and saved anyway, for the audit entry."""
    if not report.warnings:
        return None
    return {
        "duplicate_warnings": {
            w.rule: [d["id"] for d in w.duplicates] + ["…"] * bool(w.hidden_count)
            for w in report.warnings
        }
    }


def lock_for_write(actor: Any, customer: Customer) -> Customer:
    """The live customer re-read under a row lock within ``actor``'s write scope (NotFound
    outside it), so a write works on current values."""
    try:
        return (
            Customer.objects.select_for_update()
            .alive()
            .restrict(actor, "change")
            .get(pk=customer.pk)
        )
    except Customer.DoesNotExist as exc:
        raise NotFound() from exc


@audited_refusals("customer.update")
def customer_update(
    *,
    actor: Any,
    customer: Customer,
    data: Mapping[str, Any],
    version: int,
    meta: RequestMeta | None = None,
    confirm_duplicates: bool = True,
) -> Customer:
    """Edit fields of a customer; ``version`` must be the one the edit was based on.

    A pending customer cannot be edited (ERR-010). A new name that needs approval is not
    applied: it becomes a rename request, returned on ``customer.pending_rename`` (the
    other fields are saved as usual). Changed names and contact values are checked for
    duplicates as on create."""
    require_perm(actor, "customers.change_customer")
    data = {k: v for k, v in data.items() if k not in ("status", "version")}
    try:
        with transaction.atomic():
            current = lock_for_write(actor, customer)
            if current.version != version:
                raise StaleVersion(current=current)
            ensure_editable(current)
            if current.erased_at is not None:
                raise ErasedRecord()
            fields = custom_field_definitions()
            before = snapshot(current, fields)
            cleaned, custom = _clean(data, fields, current=current)
            report = duplicates.raise_if_duplicates(
                actor,
                {
                    k: v
                    for k, v in cleaned.items()
                    if k in DUPLICATE_FIELDS and v and v != getattr(current, k)
                },
                current.pk,
            )
            if report.warnings and not confirm_duplicates:
                raise duplicates.UnconfirmedDuplicates(report.warnings)
            rename = None
            if "name" in cleaned and rename_needs_approval(actor, current, cleaned["name"]):
                new_name = cleaned.pop("name")
                rename = submit_rename(actor=actor, customer=current, new_name=new_name, meta=meta)
            if "owner_id" in cleaned:
                owner = _resolve_owner(actor, cleaned.pop("owner_id"))
                current.owner = owner
                current.department_id = owner.department_id
            tags = cleaned.pop("tags", None)
            core_before = current.name_core
            for field, value in cleaned.items():
                setattr(current, field, value)
            if custom is not None:
                current.custom_fields = custom
            refresh_derived(current, [f for f in fields if f.is_active])
            if current.name_core != core_before:
                sync_name_keys([(current.pk, current.name_core)])
            if tags is not None:
                _set_tags(current, tags)
            after = snapshot(current, fields)
            changes = diff(before, after)
            if changes:
                current.version += 1
                current.updated_by = actor
                current.updated_at = timezone.now()
                current.save()
                _ensure_in_write_scope(actor, current)
                audit_record(
                    actor=actor,
                    action="customer.update",
                    obj=current,
                    changes=changes,
                    params=_warning_params(report),
                    meta=meta,
                )
                announce_change([current.pk], "customer.update")
            current.pending_rename = rename
            current.duplicate_warnings = report.warnings
    except IntegrityError as exc:
        raise name_race_lost(data.get("name", "")) from exc
    return current


@audited_refusals("customer.change_status")
def customer_change_status(
    *,
    actor: Any,
    customer: Customer,
    status: str,
    reason: str = "",
    version: int | None = None,
    meta: RequestMeta | None = None,
) -> Customer:
    """Move a customer to another status, recording the transition as an event row."""
    require_perm(actor, "customers.change_customer")
    if status not in CustomerStatus.values:
        raise ValidationError({"status": [_("无效的客户状态")]})
    with transaction.atomic():
        current = lock_for_write(actor, customer)
        if version is not None and current.version != version:
            raise StaleVersion(current=current)
        ensure_editable(current)
        if current.status == status:
            return current
        old = current.status
        now = timezone.now()
        current.status = status
        current.version += 1
        current.updated_by = actor
        current.updated_at = now
        current.save(update_fields=["status", "version", "updated_by", "updated_at"])
        StatusChange.objects.create(
            customer=current,
            from_status=old,
            to_status=status,
            reason=reason[:255],
            changed_by=actor,
            changed_at=now,
            ip=(meta or RequestMeta()).ip,
        )
        audit_record(
            actor=actor,
            action="customer.change_status",
            obj=current,
            changes={"status": [old, status]},
            params={"reason": reason},
            meta=meta,
        )
        announce_change([current.pk], "customer.change_status")
    return current


@audited_refusals("customer.delete")
def customer_delete(*, actor: Any, customer: Customer, meta: RequestMeta | None = None) -> Customer:
    """Move a customer to the recycle bin; only 未合作 customers may be deleted. Its open
    approval requests (review, rename) are withdrawn."""
    require_perm(actor, "customers.delete_customer")
    with transaction.atomic():
        current = lock_for_write(actor, customer)
        if current.status != CustomerStatus.NOT_COOPERATING:
            raise DeleteRefused(
                MSG_DELETE_STATUS % {"status": current.get_status_display()},
                reason="status",
            )
        blockers = delete_blockers(current)
        if blockers:
            raise DeleteRefused(
                MSG_DELETE_OPEN % {"reasons": "；".join(blockers)}, reason="open_business"
            )
        current.deleted_at = timezone.now()
        current.deleted_by = actor
        current.version += 1
        current.save(update_fields=["deleted_at", "deleted_by", "version"])
        # A binned record has nothing to approve; a restore starts a new review if needed.
        approvals_engine.cancel_pending(
            actor=actor, object_type="customer", object_id=current.pk, meta=meta
        )
        audit_record(
            actor=actor,
            action="customer.delete",
            obj=current,
            changes={"deleted_at": [None, current.deleted_at]},
            meta=meta,
        )
    return current
