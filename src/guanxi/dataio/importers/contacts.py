"""Contacts (联系人) from a file, each attached to an existing customer in the importer's
write scope. Validation is the form's (customers.contacts.clean_contact_input); a contact
duplicates one of the same customer with the same mobile, e-mail or name. New contacts go
through the bulk path, updates through ``contact_update`` (version-checked, audited), and
the one-primary-per-customer rule holds: a row marked primary demotes the customer's
current primary, and a customer's first contact becomes its primary, as on the form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core.crypto import blind_index
from guanxi.core.errors import DomainError
from guanxi.core.field_errors import FieldErrors
from guanxi.core.validators import fold_text, name_key
from guanxi.customers import contacts
from guanxi.customers.models import Contact, Customer
from guanxi.dataio.importers.base import FieldSpec, Match, Row
from guanxi.dataio.importers.customers import parse_moment
from guanxi.dataio.importers.relationship import CUSTOMER_FIELDS, RelationshipImporter

MSG_PRIMARY = _("主联系人请填写“是”或“否”")
MSG_ERASED = _("个人信息已清除的客户不可编辑联系人")

YES = {"是", "y", "yes", "true", "1", "√", "✓", "主", "主要", "主联系人"}
NO = {"否", "n", "no", "false", "0", "×", "不是"}

FIELDS: tuple[FieldSpec, ...] = (
    *CUSTOMER_FIELDS,
    FieldSpec(
        "name",
        _("姓名"),
        ("联系人", "联系人姓名", "contact", "contact name", "name"),
        required=True,
        rule=_("必填，不超过64字"),
        example="王小明",
    ),
    FieldSpec("title", _("职务"), ("职位", "title", "position"), example="采购经理"),
    FieldSpec("department_name", _("部门"), ("所在部门", "department"), example="采购部"),
    FieldSpec(
        "mobile",
        _("手机号"),
        ("手机", "手机号码", "移动电话", "mobile", "cell", "mobile phone"),
        rule=_("11位中国大陆手机号"),
        example="13800138000",
    ),
    FieldSpec(
        "phone",
        _("固定电话"),
        ("座机", "电话", "办公电话", "landline", "phone", "tel"),
        example="0571-87654321",
    ),
    FieldSpec("email", _("邮箱"), ("电子邮箱", "邮件", "email", "e-mail", "mail")),
    FieldSpec("wechat", _("微信"), ("微信号", "wechat", "weixin"), rule=_("微信号或绑定的手机号")),
    FieldSpec("birthday", _("生日"), ("出生日期", "birthday"), rule=_("日期，例如 1985-06-01")),
    FieldSpec("notes", _("备注"), ("说明", "notes", "remark", "remarks")),
    FieldSpec(
        "is_primary",
        _("主联系人"),
        ("主要联系人", "是否主联系人", "primary"),
        rule=_("是 / 否；为“是”时替换该客户原来的主联系人"),
        example="否",
    ),
)
# Fields handed to clean_contact_input / contact_update under the same names.
FORM_FIELDS = ("name", "title", "department_name", "mobile", "phone", "email", "wechat", "notes")
KEY_FIELDS = ("mobile", "email")


class ContactImporter(RelationshipImporter):
    object_type = "contact"
    label = _("联系人")
    permission = "customers.add_contact"
    fields = FIELDS
    blocking_rules = frozenset()  # a same-name or same-phone contact is flagged, not refused

    # --- clean ---------------------------------------------------------------------------
    def clean_row(self, row: Row) -> dict[str, list[str]]:
        values = row.values
        errors = FieldErrors()
        data: dict[str, Any] = {f: values.get(f, "") for f in FORM_FIELDS}
        if values.get("birthday"):
            data["birthday"] = _day(values["birthday"])
        cleaned: dict[str, Any] = {}
        with errors.collect():
            cleaned = contacts.clean_contact_input(data, creating=True)
        primary = fold_text(values.get("is_primary", "")).casefold()
        if primary and primary not in YES | NO:
            errors.add("is_primary", MSG_PRIMARY)
        if errors:
            return {k: [str(m) for m in v] for k, v in errors.errors.items()}
        row.cleaned = {**cleaned, "is_primary": primary in YES}
        return {}

    def erased_message(self) -> Promise:
        return MSG_ERASED

    def keys(self, row: Row) -> list[tuple[str, str]]:
        cid = row.cleaned["customer"].id
        keys = [("name", f"{cid}:{name_key(row.cleaned['name'])}")]
        for field in KEY_FIELDS:
            if row.cleaned.get(field):
                keys.append((field, f"{cid}:{blind_index(field, row.cleaned[field])}"))
        return keys

    # --- match ---------------------------------------------------------------------------
    def find(self, rows: Sequence[Row]) -> dict[tuple[str, str], list[Match]]:
        """Live contacts of the rows' customers sharing a mobile, e-mail or name (one query;
        names are compared as stored, i.e. after the form's folding)."""
        wanted = {key for row in rows for key in row.keys}
        query = Q(name__in={r.cleaned["name"] for r in rows})
        for field in KEY_FIELDS:
            indexes = {blind_index(field, r.cleaned[field]) for r in rows if r.cleaned.get(field)}
            if indexes:
                query |= Q(**{f"{field}_bidx__in": indexes})
        found = (
            Contact.objects.alive()
            .filter(customer_id__in={r.cleaned["customer"].id for r in rows})
            .filter(query)
            .values_list(
                "pk",
                "customer_id",
                "customer__code",
                "name",
                "mobile_bidx",
                "email_bidx",
                "import_batch_id",
            )
        )
        matches: dict[tuple[str, str], list[Match]] = {}
        for pk, cid, code, name, mobile_bidx, email_bidx, batch_id in found:
            for rule, value in (
                ("name", name_key(name)),
                ("mobile", mobile_bidx),
                ("email", email_bidx),
            ):
                key = (rule, f"{cid}:{value}")
                if value and key in wanted:
                    matches.setdefault(key, []).append(
                        Match(
                            id=pk,
                            label=f"{code} {name}",
                            rule=rule,
                            in_scope=True,
                            batch_id=batch_id,
                        )
                    )
        return matches

    # --- write ---------------------------------------------------------------------------
    def write(self, rows: Sequence[Row]) -> None:
        creates = [r for r in rows if r.action == "create"]
        demoted: list[int] = []
        if creates:
            demoted = self._create(creates)
        for row in rows:
            if row.action == "update":
                self._update(row)
        touched = {r.cleaned["customer"].id for r in rows if r.action in ("create", "update")}
        if touched:
            self.record_chunk(
                "contact.import", Contact, "contact", touched, created=len(creates), demoted=demoted
            )

    def _create(self, rows: Sequence[Row]) -> list[int]:
        """Insert the rows' contacts; returns the ids of existing contacts demoted."""
        now = timezone.now()
        by_customer: dict[int, list[Row]] = {}
        for row in rows:
            by_customer.setdefault(row.cleaned["customer"].id, []).append(row)
        # The services lock the customer before touching its primary; so does the import.
        list(Customer.objects.select_for_update().filter(pk__in=by_customer).values_list("pk"))
        current = {
            cid: (pk, version, batch_id)
            for cid, pk, version, batch_id in Contact.objects.alive()
            .filter(customer_id__in=by_customer, is_primary=True)
            .values_list("customer_id", "pk", "version", "import_batch_id")
        }
        demote: list[tuple[int, int, int | None]] = []
        for cid, group in by_customer.items():
            marked = [r for r in group if r.cleaned["is_primary"]]
            chosen = marked[-1] if marked else (None if cid in current else group[0])
            for row in group:
                row.cleaned["is_primary"] = row is chosen
            if marked and cid in current:
                demote.append(current[cid])
        demoted = self._demote(demote, now)
        contacts.bulk_insert_contacts(
            [
                contacts.contact_row(
                    r.cleaned,
                    customer_id=r.cleaned["customer"].id,
                    actor_id=self.actor.pk,
                    created_at=now,
                    import_batch_id=self.batch.pk,
                )
                for r in rows
            ]
        )
        # One executemany in this transaction: the batch's newest ids are these rows, in order.
        ids = Contact.objects.filter(import_batch_id=self.batch.pk).order_by("-pk")
        newest = list(ids.values_list("pk", flat=True)[: len(rows)])
        for row, pk in zip(rows, reversed(newest), strict=True):
            row.target_id = pk
        return demoted

    def _demote(self, primaries: list[tuple[int, int, int | None]], now: Any) -> list[int]:
        """Clear the flag of replaced primaries. Another person's contact gets a version bump
        and an ImportUpdate (undo gives the flag back); this batch's own contact (an earlier
        chunk) is only settled, so it still counts as unchanged since the import."""
        from guanxi.dataio.models import ImportUpdate

        own = [pk for pk, _v, batch_id in primaries if batch_id == self.batch.pk]
        theirs = [(pk, version) for pk, version, batch_id in primaries if batch_id != self.batch.pk]
        Contact.objects.filter(pk__in=own).update(is_primary=False)
        if theirs:
            Contact.objects.filter(pk__in=[pk for pk, _v in theirs]).update(
                is_primary=False, version=F("version") + 1, updated_by=self.actor, updated_at=now
            )
            ImportUpdate.objects.bulk_create(
                ImportUpdate(
                    batch=self.batch, object_id=pk, before={"is_primary": True}, version=v + 1
                )
                for pk, v in theirs
            )
        return [pk for pk, _v in theirs]

    def _update(self, row: Row) -> None:
        from guanxi.dataio.models import ImportUpdate
        from guanxi.dataio.undo_relationship import contact_before

        contact = Contact.objects.get(pk=row.target_id)
        data = {f: row.cleaned[f] for f in (*FORM_FIELDS, "birthday") if row.values.get(f)}
        if row.cleaned["is_primary"] and not contact.is_primary:
            data["is_primary"] = True  # "否" never un-makes a primary (the form refuses it)
            previous = (
                Contact.objects.alive()
                .filter(customer_id=contact.customer_id, is_primary=True)
                .values_list("pk", flat=True)
                .first()
            )
        else:
            previous = None
        before = contact_before(contact)
        try:
            contact = contacts.contact_update(
                actor=self.actor, contact=contact, data=data, version=contact.version
            )
        except (ValidationError, DomainError) as exc:
            self.refuse(row, exc)
            return
        ImportUpdate.objects.create(
            batch=self.batch, object_id=contact.pk, before=before, version=contact.version
        )
        if previous is not None:
            version = Contact.objects.filter(pk=previous).values_list("version", flat=True)[0]
            ImportUpdate.objects.create(
                batch=self.batch, object_id=previous, before={"is_primary": True}, version=version
            )

    # --- undo ----------------------------------------------------------------------------
    def undo(self, batch: Any) -> dict[str, int]:
        from guanxi.dataio.undo_relationship import undo_contacts

        return undo_contacts(actor=self.actor, batch=batch)


def _day(text: str) -> Any:
    """A birthday as people type it (1985/6/1, 1985-06-01 00:00); left as typed when it is
    no date at all, so the form's own message names the problem."""
    try:
        return timezone.localtime(parse_moment(text)).date()
    except (ValidationError, ValueError, OverflowError):
        return text
