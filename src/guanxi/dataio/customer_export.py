"""Customer exports: the rows of the list as the exporter may see them, in a file.

The same filters as the list (customers.filters), within the exporter's data scope; personal
values masked exactly as the list shows them to that user; labels instead of codes; one
column per active custom field (the list has no column chooser, so a sheet carries every
base column and every custom field; a PDF, which must fit a page, carries the list's own
columns and the custom fields shown in the list). Every export is audited with its filters
and row count (dataio.export_service).

Rows are read raw in chunks (dataio.row_reader): with tags, owners and departments looked
up once per chunk and personal values decrypted and masked here, 50,000 customers take
about a second instead of ten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy

from guanxi.audit.services import RequestMeta
from guanxi.core import custom_fields
from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.masking import mask
from guanxi.core.models import CustomField, CustomFieldType
from guanxi.customers import segments, selectors
from guanxi.customers.choices import CustomerStatus, CustomerType, ReviewStatus
from guanxi.customers.models import Customer, CustomerTag, Tag
from guanxi.customers.validation import DICTIONARY_FIELDS
from guanxi.dataio import tables
from guanxi.dataio.exporters import Column, ExportSource
from guanxi.dataio.name_lookup import NameCache
from guanxi.dataio.row_reader import Converters, LocalTime, pairs_for, raw_chunks

EXPORT_PERM = "customers.export_customer"
FORMATS = ("xlsx", "csv", "json", "xml", "pdf")
SENSITIVE_PERM = "customers.view_sensitive_customer"

BASE_COLUMNS: tuple[Column, ...] = (
    Column("code", gettext_lazy("客户编号"), 20),
    Column("name", gettext_lazy("客户名称"), 28),
    Column("customer_type", gettext_lazy("客户类型"), 8),
    Column("contact_name", gettext_lazy("联系人"), 10),
    Column("mobile", gettext_lazy("手机号"), 14),
    Column("phone", gettext_lazy("固定电话"), 16),
    Column("email", gettext_lazy("邮箱"), 24),
    Column("uscc", gettext_lazy("统一社会信用代码"), 22),
    Column("province", gettext_lazy("省份"), 10),
    Column("city", gettext_lazy("城市"), 10),
    Column("district", gettext_lazy("区县"), 10),
    Column("address", gettext_lazy("详细地址"), 30),
    Column("industry", gettext_lazy("所属行业"), 16),
    Column("category", gettext_lazy("客户分类"), 10),
    Column("source", gettext_lazy("客户来源"), 10),
    Column("status", gettext_lazy("客户状态"), 10),
    Column("tags", gettext_lazy("客户标签"), 20),
    Column("owner", gettext_lazy("负责人"), 10),
    Column("department", gettext_lazy("所属部门"), 14),
    Column("review_status", gettext_lazy("审核状态"), 8),
    Column("notes", gettext_lazy("备注"), 30),
    Column("created_at", gettext_lazy("创建时间"), 18),
    Column("updated_at", gettext_lazy("更新时间"), 18),
)
# The customer list's columns (customers/_table.html), for a PDF.
LIST_KEYS = (
    "code",
    "name",
    "customer_type",
    "contact_name",
    "mobile",
    "province",
    "city",
    "industry",
    "category",
    "status",
    "tags",
    "owner",
)
# Raw columns read per customer, in this order (personal ones decrypted only if exported);
# then the custom values: each field's value as SQL extracts it (sheets) or the whole JSON
# (JSON and XML, which carry the stored form).
SELECT = (
    "id",
    "code",
    "name",
    "customer_type",
    "contact_name",
    "mobile",
    "phone",
    "email",
    "uscc",
    "province",
    "city",
    "district",
    "address",
    "industry",
    "category",
    "source",
    "status",
    "owner_id",
    "department_id",
    "review_status",
    "notes",
    LocalTime("created_at"),
    LocalTime("updated_at"),
)
TRUE = (1, True, "true")  # a JSON true as SQLite and PostgreSQL extract it
PERSONAL = (("mobile", 5), ("phone", 6), ("email", 7), ("uscc", 8))
LABELLED = (("industry", 13), ("category", 14), ("source", 15), ("status", 16))
TAGS_SQL = (
    f"SELECT ct.customer_id, t.name FROM {CustomerTag._meta.db_table} ct "
    f"JOIN {Tag._meta.db_table} t ON t.id = ct.tag_id WHERE ct.customer_id IN ({{ids}})"
)


def _number(v: Any) -> Any:
    if isinstance(v, str):  # PostgreSQL's ->> gives text
        try:
            return int(v)
        except ValueError:
            return float(v)
    return v


def _custom_cell(field: CustomField, labels: Mapping[str, str] | None) -> Callable[[Any], Any]:
    """A custom value as SQL extracts it from the JSON (``KT``: text on PostgreSQL, native
    scalars on SQLite, arrays as JSON text) to its cell, as custom_fields.export_value
    would make it from the stored value; the common types inlined for speed."""
    kind = field.field_type
    if kind == CustomFieldType.NUMBER:
        return lambda v: None if v in (None, "") else _number(v)
    if kind == CustomFieldType.MONEY:

        def money(v: Any) -> Any:
            if v in (None, ""):
                return None
            try:
                return Decimal(str(v))
            except InvalidOperation:
                return str(v)

        return money
    if kind == CustomFieldType.CHOICE:
        table = labels or {}
        return lambda v: None if v in (None, "") else table.get(str(v), str(v))
    if kind == CustomFieldType.TEXT:
        return lambda v: None if v in (None, "") else str(v)
    if kind == CustomFieldType.BOOLEAN:
        return lambda v: custom_fields.export_value(field, None if v is None else v in TRUE)
    if kind == CustomFieldType.MULTI_CHOICE:
        return lambda v: custom_fields.export_value(field, json.loads(v) if v else None, labels)
    return lambda v: custom_fields.export_value(field, v, labels)


class CustomerRows:
    """Raw customer rows to cells (sheets) and records (JSON, XML), a chunk at a time."""

    def __init__(self, user: Any, qs: Any, fields: list[CustomField]) -> None:
        self.user, self.qs, self.fields = user, qs, fields
        self.convert = Converters()
        self.names = NameCache()
        # field -> ``dict.get`` of its code -> label table (a code without a label stays).
        by_field = {f: dictionary_labels(code) for f, code in DICTIONARY_FIELDS.items()}
        by_field["customer_type"] = {k: str(v) for k, v in CustomerType.choices}
        by_field["status"] = {k: str(v) for k, v in CustomerStatus.choices}
        by_field["review_status"] = {k: str(v) for k, v in ReviewStatus.choices}
        self.labels = {field: table.get for field, table in by_field.items()}
        labels = custom_fields.choice_labels(fields)
        self.custom = [(f.key, _custom_cell(f, labels.get(f.key))) for f in fields]
        self.any_tags = CustomerTag.objects.exists()
        by_default = getattr(settings, "SHOW_SENSITIVE_BY_DEFAULT", True)
        self.show_owned = by_default  # owners see their customers' values in full
        self.show_all = by_default and user.has_perm(SENSITIVE_PERM)

    def _tags(self, ids: list[int]) -> dict[int, list[str]]:
        tags: dict[int, list[str]] = {}
        if not self.any_tags:
            return tags
        for customer_id, name in pairs_for(TAGS_SQL, ids):
            tags.setdefault(customer_id, []).append(name)
        for names in tags.values():
            if len(names) > 1:
                names.sort()
        return tags

    def _personal(self, cols: list[tuple]) -> list[list[str]]:
        """The four personal columns decrypted, masked where the row is not the exporter's
        to see in full (their own customers, or every one with the sensitive-data right)."""
        values = [self.convert.plain_column(cols[i]) for _f, i in PERSONAL]
        if self.show_all:
            return values
        me, owned = self.user.pk, self.show_owned
        full = [owned and owner == me for owner in cols[17]]
        return [
            [v if shown else mask(field, v) for v, shown in zip(column, full, strict=True)]
            for (field, _i), column in zip(PERSONAL, values, strict=True)
        ]

    def chunks(self, extra: list[Any]) -> Iterator[tuple[list[Any], list[list[str]], list]]:
        """Per chunk of rows, column by column (``map`` over a column runs in C, a loop over
        rows in Python): the base cells' columns, each row's tag names, and the ``extra``
        columns' raw values."""
        local, labels = self.convert.local, self.labels
        for rows in raw_chunks(self.qs, (*SELECT, *extra)):
            cols = list(zip(*rows, strict=True))
            tags = self._tags(cols[0])
            names = [tags.get(i, []) for i in cols[0]]
            owners = self.names.users(set(cols[17])).get
            departments = self.names.departments(set(cols[18])).get
            blanks = repeat("")
            base = [
                cols[1],
                cols[2],
                list(map(labels["customer_type"], cols[3], cols[3])),
                cols[4],
                *self._personal(cols),
                cols[9],
                cols[10],
                cols[11],
                cols[12],
                *(list(map(labels[f], cols[i], cols[i])) for f, i in LABELLED),
                ["、".join(n) for n in names],
                list(map(owners, cols[17], blanks)),
                list(map(departments, cols[18], blanks)),
                list(map(labels["review_status"], cols[19], cols[19])),
                cols[20],
                list(map(local, cols[21])),
                list(map(local, cols[22])),
            ]
            yield base, names, cols[len(SELECT) :]

    def column_chunks(self) -> Iterator[list[Sequence[Any]]]:
        """Per chunk, the cells column by column: the base columns, then the custom ones."""
        convert = [c for _key, c in self.custom]
        extract = [KT(f"custom_fields__{key}") for key, _c in self.custom]
        for base, _names, raw in self.chunks(extract):
            yield base + [list(map(c, column)) for c, column in zip(convert, raw, strict=True)]

    def cells(self) -> Iterator[Sequence[Any]]:
        for columns in self.column_chunks():
            yield from zip(*columns, strict=True)

    def records(self) -> Iterator[dict[str, Any]]:
        """JSON and XML: the base columns under their API names, tags as a list, custom
        values in their stored form."""
        keys = [c.key for c in BASE_COLUMNS]
        field_keys = [f.key for f in self.fields]
        load = self.convert.json
        for base, names, raw in self.chunks(["custom_fields"] if field_keys else []):
            stored = [load(v) or {} for v in raw[0]] if raw else repeat({})
            rows = zip(zip(*base, strict=True), names, stored, strict=False)  # stored may repeat
            for cells, tags, values in rows:
                record = dict(zip(keys, cells, strict=True))
                record["tags"] = tags
                record["custom_fields"] = {k: values.get(k) for k in field_keys}
                yield record


def _filtered(user: Any, params: Mapping[str, Any]) -> Any:
    filterset = selectors.customer_filter(user, params)
    if not filterset.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    return filterset.qs.order_by("-id")


def customer_source(user: Any, params: Mapping[str, Any]) -> ExportSource:
    """The customers matching the list's ``params`` (or ``segment=<id>``) in ``user``'s scope."""
    # segment=<id> (客户分群): its saved filters, applied within the exporter's own scope.
    params = segments.expand_params(user, params)
    fields = custom_fields.definitions(Customer.scope_object_type)
    qs = _filtered(user, params)
    rows = CustomerRows(user, qs, fields)
    columns = list(BASE_COLUMNS) + [Column(f"cf_{f.key}", f.shown_label, 14) for f in fields]
    shown = [f"cf_{f.key}" for f in fields if f.show_in_list]
    return ExportSource(
        queryset=qs,
        columns=columns,
        cells=rows.cells,
        records=rows.records,
        pdf_keys=(*LIST_KEYS, *shown, "created_at"),
        columns_by_chunk=rows.column_chunks,
        filters=params,
    )


def customer_export(
    *,
    actor: Any,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None = None,
    cap: int | None = -1,
) -> tables.ExportFile:
    """The customers matching ``params`` in ``actor``'s scope as a file (see
    dataio.export_service.export_run for ``cap``, formats and the audit entry)."""
    from guanxi.dataio.export_service import export_run

    return export_run(actor=actor, kind="customers", params=params, fmt=fmt, meta=meta, cap=cap)
