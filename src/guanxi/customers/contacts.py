"""Every write to contacts (联系人): permission, the customer's write scope, validation,
transaction, version, audit — and the one-primary-per-customer rule.

A contact follows its customer: the customer must be live and inside the actor's write
scope (NotFound otherwise), and an erased customer's contacts are not edited (ERR-024).
The primary contact is kept unique by the ``contact_one_primary`` constraint; the services
lock the customer row first, so two writers never race to make two primaries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions, register_object_types
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import search_keys, validators
from guanxi.core.bulk_sql import adapted_datetime, insert_many
from guanxi.core.crypto import blind_index, encrypt
from guanxi.core.errors import ErasedRecord, NotFound, StaleVersion
from guanxi.core.field_errors import FieldErrors
from guanxi.core.masking import mask, mask_middle
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Contact, Customer
from guanxi.customers.signals import customer_data_changed

MSG_REQUIRED = _("此项为必填项")
MSG_TOO_LONG = _("不能超过%(max)s个字符")
MSG_BAD_DATE = _("请输入有效的日期（YYYY-MM-DD）")
MSG_BIRTHDAY_FUTURE = _("生日不能晚于今天")
MSG_BIRTHDAY_TOO_OLD = _("生日不能早于1900-01-01")
MSG_WECHAT_INVALID = _("微信号须为6至20位字母、数字、下划线或减号并以字母开头，或填写手机号")
MSG_KEEP_PRIMARY = _("请将其他联系人设为主要联系人，而不是取消本联系人的主要身份")

# What a user edits on a contact; "phone" is the landline.
EDITABLE_FIELDS = (
    "name",
    "title",
    "department_name",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "notes",
    "is_primary",
)
SENSITIVE_FIELDS = ("mobile", "phone", "email", "wechat")
# Blanked when the customer's personal data is erased (customers.privacy).
ERASED_FIELDS = ("mobile", "phone", "email", "wechat", "birthday", "notes")
MAX_LENGTHS = {"name": 64, "title": 64, "department_name": 64, "notes": 2000}
MIN_BIRTHDAY = dt.date(1900, 1, 1)
_WECHAT_RE = re.compile(r"[A-Za-z][-_A-Za-z0-9]{5,19}")
_NORMALIZERS = {
    "mobile": validators.normalize_mobile,
    "phone": validators.normalize_landline,
    "email": validators.normalize_email,
}

register_actions(
    {
        "contact.create": _("新建联系人"),
        "contact.update": _("编辑联系人"),
        "contact.delete": _("删除联系人"),
        "contact.set_primary": _("设为主要联系人"),
    }
)
register_object_types({"contact": _("联系人")})


# --- validation ----------------------------------------------------------------------------


def normalize_wechat(value: str) -> str:
    """A WeChat ID (letter first, 6–20 characters) or the mobile number it is bound to."""
    text = validators.fold_text(value).replace(" ", "")
    if _WECHAT_RE.fullmatch(text):
        return text
    try:
        return validators.normalize_mobile(text)
    except ValidationError:
        raise ValidationError(MSG_WECHAT_INVALID, code="invalid_wechat") from None


def _birthday(raw: Any) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    value = raw if isinstance(raw, dt.date) else None
    if value is None:
        try:
            value = parse_date(str(raw).strip())
        except ValueError:
            value = None
    if value is None:
        raise ValidationError(MSG_BAD_DATE, code="invalid_date")
    if value > timezone.localdate():
        raise ValidationError(MSG_BIRTHDAY_FUTURE, code="invalid_date")
    if value < MIN_BIRTHDAY:
        raise ValidationError(MSG_BIRTHDAY_TOO_OLD, code="invalid_date")
    return value


def clean_contact_input(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validate and normalise the keys of ``data`` that a user edits (all of them on create).
    Raises ValidationError with field → messages, every bad field at once."""
    errors = FieldErrors()
    cleaned: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        raw = data[field]
        if field == "is_primary":
            cleaned[field] = bool(raw)
            continue
        if field == "birthday":
            with errors.collect(field):
                cleaned[field] = _birthday(raw)
            continue
        value = str(raw or "").strip() if field == "notes" else validators.fold_text(raw or "")
        if value and field in _NORMALIZERS:
            with errors.collect(field):
                value = _NORMALIZERS[field](value)
        elif value and field == "wechat":
            with errors.collect(field):
                value = normalize_wechat(value)
        if field in MAX_LENGTHS and len(value) > MAX_LENGTHS[field]:
            errors.add(field, MSG_TOO_LONG % {"max": MAX_LENGTHS[field]})
        cleaned[field] = value
    if (creating or "name" in data) and not cleaned.get("name") and "name" not in errors:
        errors.add("name", MSG_REQUIRED)
    errors.raise_if_any()
    return cleaned


# --- derived values, snapshots ---------------------------------------------------------------


def mask_value(field: str, value: str) -> str:
    """Contact values as someone without the sensitive-data right sees them."""
    if field == "wechat":
        return mask_middle(value, 2, 2) if value else ""
    return mask(field, value)


def refresh_derived(contact: Contact) -> None:
    """Birthday key for the birthday reminder's index, and the name's search tokens."""
    contact.birthday_md = contact.birthday.strftime("%m-%d") if contact.birthday else ""
    contact.search_tokens = search_keys.document_tokens(contact.name)


def snapshot(contact: Contact) -> dict[str, Any]:
    """Field values for audit diffs; personal values masked so the log holds no plaintext."""
    values = {f: getattr(contact, f) for f in EDITABLE_FIELDS}
    for field in SENSITIVE_FIELDS:
        values[field] = mask_value(field, values[field] or "")
    return values


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _changed(customer_id: int) -> None:
    """Tell listeners (tag rules) once the transaction has committed."""
    transaction.on_commit(
        lambda: customer_data_changed.send(
            sender=Contact, customer_ids=[customer_id], reason="contact"
        )
    )


# --- locking -------------------------------------------------------------------------------


def _lock_customer(actor: Any, customer_id: Any) -> Customer:
    """The live customer under a row lock within the actor's write scope, else NotFound;
    an erased customer's contacts are not edited (ErasedRecord)."""
    try:
        customer = (
            Customer.objects.select_for_update()
            .alive()
            .restrict(actor, "change")
            .get(pk=int(customer_id))
        )
    except (Customer.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc
    if customer.erased_at is not None:
        raise ErasedRecord(_("个人信息已清除的客户不可编辑联系人"))
    return customer


def _lock_contact(actor: Any, contact: Contact) -> tuple[Customer, Contact]:
    customer = _lock_customer(actor, contact.customer_id)
    try:
        current = Contact.objects.select_for_update().alive().get(pk=contact.pk, customer=customer)
    except Contact.DoesNotExist as exc:
        raise NotFound() from exc
    return customer, current


def _demote_others(actor: Any, customer: Customer, keep_pk: int | None, now: Any) -> list[int]:
    """Clear the flag of the customer's current primary (other than ``keep_pk``); returns the
    ids demoted so the caller can audit them."""
    demoted = list(
        Contact.objects.alive()
        .filter(customer=customer, is_primary=True)
        .exclude(pk=keep_pk)
        .values_list("pk", flat=True)
    )
    if demoted:
        Contact.objects.filter(pk__in=demoted).update(
            is_primary=False, version=F("version") + 1, updated_by=actor, updated_at=now
        )
    return demoted


def _has_primary(customer: Customer, exclude_pk: int | None = None) -> bool:
    return (
        Contact.objects.alive()
        .filter(customer=customer, is_primary=True)
        .exclude(pk=exclude_pk)
        .exists()
    )


# --- services ------------------------------------------------------------------------------


@audited_refusals("contact.create", target="contact")
def contact_create(
    *, actor: Any, customer_id: Any, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> Contact:
    """Add a contact to a customer; the customer's first contact becomes its primary, and a
    new primary demotes the previous one in the same transaction."""
    require_perm(actor, "customers.add_contact")
    with transaction.atomic():
        customer = _lock_customer(actor, customer_id)
        cleaned = clean_contact_input(data, creating=True)
        now = timezone.now()
        contact = Contact(
            **cleaned,
            customer=customer,
            created_by=actor,
            updated_by=actor,
            created_at=now,
            updated_at=now,
        )
        if not _has_primary(customer):
            contact.is_primary = True
        elif contact.is_primary:
            _demote_others(actor, customer, None, now)
        refresh_derived(contact)
        contact.save(force_insert=True)
        audit_record(
            actor=actor,
            action="contact.create",
            obj=contact,
            changes=_diff({}, snapshot(contact)),
            params={"customer_id": customer.pk},
            meta=meta,
        )
        _changed(customer.pk)
    return contact


@audited_refusals("contact.update", target="contact")
def contact_update(
    *,
    actor: Any,
    contact: Contact,
    data: Mapping[str, Any],
    version: int,
    meta: RequestMeta | None = None,
) -> Contact:
    """Edit a contact; ``version`` must be the one the edit was based on (StaleVersion with
    the current record otherwise). ``is_primary`` true makes it the primary; a primary
    cannot be un-made directly — another contact is made primary instead."""
    require_perm(actor, "customers.change_contact")
    with transaction.atomic():
        customer, current = _lock_contact(actor, contact)
        if current.version != version:
            raise StaleVersion(current=current)
        cleaned = clean_contact_input(data, creating=False)
        if cleaned.get("is_primary") is False and current.is_primary:
            raise ValidationError({"is_primary": [MSG_KEEP_PRIMARY]})
        before = snapshot(current)
        for field, value in cleaned.items():
            setattr(current, field, value)
        now = timezone.now()
        if current.is_primary and not before["is_primary"]:
            _demote_others(actor, customer, current.pk, now)
        refresh_derived(current)
        changes = _diff(before, snapshot(current))
        if changes:
            current.version += 1
            current.updated_by, current.updated_at = actor, now
            current.save()
            audit_record(
                actor=actor,
                action="contact.update",
                obj=current,
                changes=changes,
                params={"customer_id": customer.pk},
                meta=meta,
            )
            _changed(customer.pk)
    return current


@audited_refusals("contact.set_primary", target="contact")
def contact_set_primary(
    *, actor: Any, contact: Contact, meta: RequestMeta | None = None
) -> Contact:
    """Make ``contact`` its customer's primary contact (设为主要联系人)."""
    require_perm(actor, "customers.change_contact")
    with transaction.atomic():
        customer, current = _lock_contact(actor, contact)
        if current.is_primary:
            return current
        now = timezone.now()
        demoted = _demote_others(actor, customer, current.pk, now)
        current.is_primary = True
        current.version += 1
        current.updated_by, current.updated_at = actor, now
        current.save(update_fields=["is_primary", "version", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="contact.set_primary",
            obj=current,
            changes={"is_primary": [False, True]},
            params={"customer_id": customer.pk, "demoted": demoted},
            meta=meta,
        )
        _changed(customer.pk)
    return current


@audited_refusals("contact.delete", target="contact")
def contact_delete(*, actor: Any, contact: Contact, meta: RequestMeta | None = None) -> Contact:
    """Soft-delete a contact; when it was the primary, the oldest remaining contact takes
    its place so a customer with contacts always has a primary."""
    require_perm(actor, "customers.delete_contact")
    with transaction.atomic():
        customer, current = _lock_contact(actor, contact)
        now = timezone.now()
        was_primary = current.is_primary
        current.deleted_at, current.deleted_by = now, actor
        current.is_primary = False
        current.version += 1
        current.save(update_fields=["deleted_at", "deleted_by", "is_primary", "version"])
        promoted = None
        if was_primary:
            promoted = Contact.objects.alive().filter(customer=customer).order_by("id").first()
            if promoted is not None:
                promoted.is_primary = True
                promoted.version += 1
                promoted.updated_by, promoted.updated_at = actor, now
                promoted.save(update_fields=["is_primary", "version", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="contact.delete",
            obj=current,
            changes={"deleted_at": [None, now]},
            params={
                "customer_id": customer.pk,
                "promoted": promoted.pk if promoted is not None else None,
            },
            meta=meta,
        )
        _changed(customer.pk)
    return current


# --- hooks used by the customer services, merge, privacy and the bulk loaders ------------------


def primary_from_customer(customer: Customer, actor: Any) -> Contact | None:
    """The primary contact of a new customer, from its contact fields (customer_create calls
    this inside its transaction; the customer's own audit entry covers the values)."""
    if not customer.contact_name:
        return None
    contact = Contact(
        customer=customer,
        name=customer.contact_name[:64],
        mobile=customer.mobile,
        phone=customer.phone,
        email=customer.email,
        is_primary=True,
        created_by=actor,
        updated_by=actor,
        created_at=customer.created_at,
        updated_at=customer.created_at,
    )
    refresh_derived(contact)
    contact.save(force_insert=True)
    return contact


CONTACT_COLUMNS = (
    "customer_id",
    "name",
    "title",
    "department_name",
    "mobile",
    "mobile_bidx",
    "phone",
    "phone_bidx",
    "email",
    "email_bidx",
    "wechat",
    "wechat_bidx",
    "birthday",
    "birthday_md",
    "notes",
    "is_primary",
    "search_tokens",
    "created_at",
    "updated_at",
    "created_by_id",
    "updated_by_id",
    "version",
    "import_batch_id",
)


def derive_contact_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a new contact that follow from its values alone (search tokens,
    ciphertexts, blind indexes): computed ahead by an import's helper process."""
    derived: dict[str, Any] = {"search_tokens": search_keys.document_tokens(values["name"])}
    for name in SENSITIVE_FIELDS:
        plain = values.get(name) or ""
        derived[name] = encrypt(plain)
        derived[f"{name}_bidx"] = blind_index(name, plain)
    return derived


def contact_row(
    values: Mapping[str, Any],
    *,
    customer_id: int,
    actor_id: int | None,
    created_at: Any,
    import_batch_id: int | None = None,
    derived: Mapping[str, Any] | None = None,
) -> tuple[Any, ...]:
    """One INSERT tuple for ``bulk_insert_contacts`` from already-normalised values
    (``derived``: ``derive_contact_columns`` of them, when computed ahead)."""
    birthday = values.get("birthday")
    stamp = adapted_datetime(created_at)
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "name": values["name"][:64],
        "title": values.get("title", ""),
        "department_name": values.get("department_name", ""),
        "birthday": connection.ops.adapt_datefield_value(birthday) if birthday else None,
        "birthday_md": birthday.strftime("%m-%d") if birthday else "",
        "notes": values.get("notes", ""),
        "is_primary": bool(values.get("is_primary")),
        "created_at": stamp,
        "updated_at": stamp,
        "created_by_id": actor_id,
        "updated_by_id": actor_id,
        "version": 1,
        "import_batch_id": import_batch_id,
    }
    row.update(derived or derive_contact_columns(values))
    return tuple(row[c] for c in CONTACT_COLUMNS)


def bulk_insert_contacts(rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows of ``contact_row`` into customers_contact (trusted loaders: demo, import, bench)."""
    insert_many(Contact._meta.db_table, CONTACT_COLUMNS, rows)


def merge_contacts(survivor: Customer, merged: Customer) -> int:
    """Merge handler (customers.merge): the merged side's contacts move to the survivor; its
    primary is demoted first when the survivor has one (one primary per customer)."""
    moving = Contact._base_manager.filter(customer=merged)
    if _has_primary(survivor):
        moving.filter(is_primary=True).update(is_primary=False)
    return moving.update(customer=survivor)


def erase_contacts(customer: Customer, anonymous: str) -> int:
    """Blank the personal values of every contact of an erased customer (customers.privacy):
    phones, e-mail, WeChat, birthday and notes go, the name becomes ``anonymous`` as the
    customer's contact name does; titles stay. Returns how many contacts were erased."""
    blank = {f: "" for f in SENSITIVE_FIELDS} | {f"{f}_bidx": "" for f in SENSITIVE_FIELDS}
    return Contact._base_manager.filter(customer=customer).update(
        **blank,
        name=anonymous,
        search_tokens="",
        birthday=None,
        birthday_md="",
        notes="",
        version=F("version") + 1,
    )


def contacts_of(customer_ids: Iterable[int]) -> dict[int, list[Contact]]:
    """Live contacts per customer, primary first (for exports that show them in full)."""
    out: dict[int, list[Contact]] = {}
    for contact in Contact.objects.alive().filter(customer_id__in=list(customer_ids)):
        out.setdefault(contact.customer_id, []).append(contact)
    return out


def primary_contact_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A bulk-loaded customer's primary contact, from the customer's cleaned values."""
    return {
        "name": values["contact_name"],
        "title": values.get("title", ""),
        "mobile": values.get("mobile", ""),
        "phone": values.get("phone", ""),
        "email": values.get("email", ""),
        "is_primary": True,
    }


def bulk_primary_contacts(
    rows: Sequence[Mapping[str, Any]],
    codes: Sequence[str],
    *,
    actor_id: int | None,
    created_at: Sequence[Any],
    import_batch_id: int | None = None,
    by_code: Mapping[str, int] | None = None,
) -> None:
    """The primary contact of every customer a bulk load just inserted (customers.bulk),
    from each row's contact values, in one executemany. A row may carry the contact's
    ``derive_contact_columns`` under ``contact_derived``."""
    if by_code is None:
        by_code = dict(Customer.objects.filter(code__in=list(codes)).values_list("code", "pk"))
    bulk_insert_contacts(
        [
            contact_row(
                primary_contact_values(values),
                customer_id=by_code[code],
                actor_id=actor_id,
                created_at=stamp,
                import_batch_id=import_batch_id,
                derived=values.get("contact_derived"),
            )
            for values, code, stamp in zip(rows, codes, created_at, strict=True)
            if values.get("contact_name") and code in by_code
        ]
    )
