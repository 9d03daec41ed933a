"""What contact and follow-up imports share: every row hangs on an existing customer, named
by its code (客户编号) or its exact name (客户名称), that must be live and inside the
importing user's write scope.

The engine cleans a chunk row by row and then calls ``match`` once for the chunk. A row's
own values are checked in ``clean``; the customer (and whatever else a row refers to) is
resolved at the start of ``match`` for every row of the chunk at once — one query, not one
per row — and rows whose reference fails turn into errors there, together with any errors
``clean`` found, so a row reports all its problems at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import audit_record
from guanxi.core.errors import DomainError
from guanxi.core.validators import fold_text, name_key
from guanxi.customers.models import Customer
from guanxi.customers.signals import customer_data_changed
from guanxi.dataio.importers.base import FieldSpec, Importer, Match, Row, error_messages

MSG_CUSTOMER_MISSING = _("请填写客户编号或客户名称")
MSG_CUSTOMER_UNKNOWN = _("找不到客户“%(value)s”")
MSG_CUSTOMER_OUT_OF_SCOPE = _("客户“%(value)s”不在您的数据范围内")
MSG_CUSTOMER_MISMATCH = _("客户名称与客户编号“%(code)s”对应的客户（%(name)s）不一致")

register_actions({"contact.import": _("导入联系人"), "follow_up.import": _("导入跟进记录")})

CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "customer_code",
        _("客户编号"),
        ("编号", "customer code", "customer_code"),
        rule=_("客户编号或客户名称至少填一项"),
    ),
    FieldSpec(
        "customer_name",
        _("客户名称"),
        ("客户", "公司名称", "企业名称", "单位名称", "customer", "company", "customer name"),
        rule=_("与系统中的客户名称完全一致"),
        example="杭州西湖茶业有限公司",
    ),
)


@dataclass(frozen=True)
class CustomerRef:
    """A customer a row may attach to, as the chunk's look-up found it."""

    id: int
    code: str
    name: str
    writable: bool
    erased: bool


class RelationshipImporter(Importer):
    """Base of the importers whose rows attach to an existing customer."""

    def begin(self, *, actor: Any, batch: Any) -> None:
        super().begin(actor=actor, batch=batch)
        self._pending: list[Row] = []

    # --- per row -------------------------------------------------------------------------
    def clean(self, row: Row) -> None:
        self._pending.append(row)
        code = fold_text(row.values.get("customer_code", "")).upper()
        name = fold_text(row.values.get("customer_name", ""))
        errors = self.clean_row(row)
        if not (code or name):
            errors.setdefault("customer_name", []).append(str(MSG_CUSTOMER_MISSING))
        if errors:
            row.errors = errors

    def clean_row(self, row: Row) -> dict[str, list[str]]:
        """Fill ``row.cleaned`` from the row's own values; returns field -> messages."""
        raise NotImplementedError

    # --- per chunk -----------------------------------------------------------------------
    def match(self, rows: Sequence[Row]) -> dict[tuple[str, str], list[Match]]:
        pending, self._pending = self._pending, []
        customers = self._customers(pending)
        for row in pending:
            self._attach(row, customers)
        self.resolve([r for r in pending if not r.errors])
        for row in pending:
            if row.errors:
                row.action = "error"
        good = [r for r in rows if not r.errors]
        for row in good:
            row.keys = self.keys(row)
        return self.find(good) if good else {}

    def resolve(self, rows: Sequence[Row]) -> None:
        """Settle what the rows refer to beyond the customer (in as few queries as possible)."""

    def keys(self, row: Row) -> list[tuple[str, str]]:
        raise NotImplementedError

    def find(self, rows: Sequence[Row]) -> dict[tuple[str, str], list[Match]]:
        raise NotImplementedError

    def _customers(self, rows: Sequence[Row]) -> dict[tuple[str, str], CustomerRef]:
        """The live customers the rows name, by ("code", CODE) and ("name", name key)."""
        codes = {r.values.get("customer_code") for r in rows}
        codes = {fold_text(c).upper() for c in codes if c}
        names = {name_key(r.values["customer_name"]) for r in rows if r.values.get("customer_name")}
        if not (codes or names):
            return {}
        writable = Customer.objects.restrict(self.actor, "change").filter(pk=OuterRef("pk"))
        found = (
            Customer.objects.alive()
            .filter(Q(code__in=codes) | Q(name_key__in=names))
            .annotate(writable=Exists(writable))
            .values_list("pk", "code", "name", "name_key", "writable", "erased_at")
        )
        out: dict[tuple[str, str], CustomerRef] = {}
        for pk, code, name, key, can_write, erased_at in found:
            ref = CustomerRef(pk, code, name, bool(can_write), erased_at is not None)
            out[("code", code)] = ref
            out[("name", key)] = ref
        return out

    def _attach(self, row: Row, customers: dict[tuple[str, str], CustomerRef]) -> None:
        code = fold_text(row.values.get("customer_code", "")).upper()
        name = row.values.get("customer_name", "")
        if not (code or name):
            return  # clean() already said so
        field, typed = ("customer_code", code) if code else ("customer_name", name)
        ref = customers.get(("code", code) if code else ("name", name_key(name)))
        message: Any = None
        if ref is None or not ref.writable:
            # Named as out of scope (not "missing"), as the duplicate checks of imports
            # do, so the user knows to ask its owner rather than create it again.
            message = MSG_CUSTOMER_UNKNOWN if ref is None else MSG_CUSTOMER_OUT_OF_SCOPE
            message = message % {"value": typed}
        elif code and name and name_key(name) != name_key(ref.name):
            field, message = (
                "customer_name",
                MSG_CUSTOMER_MISMATCH % {"code": code, "name": ref.name},
            )
        elif ref.erased:
            message = self.erased_message()
        if message is not None:
            row.errors.setdefault(field, []).append(str(message))
            return
        row.cleaned["customer"] = ref

    def erased_message(self) -> Promise | None:
        """Refusal for an erased customer (None: allowed)."""
        return None

    # --- writing -------------------------------------------------------------------------
    def refuse(self, row: Row, exc: Exception) -> None:
        """A row the service refused becomes an error row (its chunk still commits)."""
        row.action = "error"
        if isinstance(exc, ValidationError):
            row.errors = error_messages(exc)
        elif isinstance(exc, DomainError):
            row.errors = {"": [f"{exc.message}（{exc.code}）"]}
        else:  # pragma: no cover - only the two kinds above are caught by callers
            raise exc

    def record_chunk(
        self, action: str, sender: Any, reason: str, customer_ids: set[int], **params: Any
    ) -> None:
        """One audit entry per written chunk (the bulk path bypasses the per-record services),
        and the customers' listeners (tag rules) told once it has committed."""
        audit_record(
            actor=self.actor,
            action=action,
            object_type="import_batch",
            object_id=self.batch.pk,
            object_repr=str(self.batch),
            params={"customers": len(customer_ids), **params},
        )
        ids = sorted(customer_ids)
        transaction.on_commit(
            lambda: customer_data_changed.send(sender=sender, customer_ids=ids, reason=reason)
        )
