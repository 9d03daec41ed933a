"""Customer exports: the rows of the list as the exporter may see them, in a file.

The same filters as the list (customers.filters), within the exporter's data scope; personal
values masked exactly as the list shows them to that user; labels instead of codes; one
column per active custom field. Every export is audited with its filters and row count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import custom_fields
from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.models import CustomField
from guanxi.core.permissions import require_perm
from guanxi.customers import segments, selectors
from guanxi.customers.models import Customer
from guanxi.customers.validation import DICTIONARY_FIELDS
from guanxi.dataio import tables

EXPORT_PERM = "customers.export_customer"
FORMATS = ("xlsx", "csv", "json")
MSG_FORMAT = gettext_lazy("导出格式只能是 xlsx、csv 或 json")
MSG_TOO_MANY = gettext_lazy(
    "符合条件的客户超过 %(cap)s 条，请缩小筛选范围后再导出，或使用命令行 guanxi export"
)

# (key in JSON, column title, value of a customer); personal values come from the masker.
BASE_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("code", gettext_lazy("客户编号")),
    ("name", gettext_lazy("客户名称")),
    ("customer_type", gettext_lazy("客户类型")),
    ("contact_name", gettext_lazy("联系人")),
    ("mobile", gettext_lazy("手机号")),
    ("phone", gettext_lazy("固定电话")),
    ("email", gettext_lazy("邮箱")),
    ("uscc", gettext_lazy("统一社会信用代码")),
    ("province", gettext_lazy("省份")),
    ("city", gettext_lazy("城市")),
    ("district", gettext_lazy("区县")),
    ("address", gettext_lazy("详细地址")),
    ("industry", gettext_lazy("所属行业")),
    ("category", gettext_lazy("客户分类")),
    ("source", gettext_lazy("客户来源")),
    ("status", gettext_lazy("客户状态")),
    ("tags", gettext_lazy("客户标签")),
    ("owner", gettext_lazy("负责人")),
    ("department", gettext_lazy("所属部门")),
    ("review_status", gettext_lazy("审核状态")),
    ("notes", gettext_lazy("备注")),
    ("created_at", gettext_lazy("创建时间")),
    ("updated_at", gettext_lazy("更新时间")),
)
WIDTHS = (20, 28, 8, 10, 14, 16, 24, 22, 10, 10, 10, 30, 16, 10, 10, 10, 20, 10, 14, 8, 30, 18, 18)


def export_max_rows() -> int:
    return int(getattr(settings, "GUANXI_EXPORT_MAX_ROWS", 100_000))


class _Row:
    """Turns customers into cells, with every lookup table read once per export."""

    def __init__(self, user: Any, fields: list[CustomField]) -> None:
        self.user = user
        self.fields = fields
        self.labels = {f: dictionary_labels(code) for f, code in DICTIONARY_FIELDS.items()}
        self.custom_labels = custom_fields.choice_labels(fields)

    def values(self, c: Customer) -> dict[str, Any]:
        """The base columns as people read them (labels, local times, masked personal data)."""
        values: dict[str, Any] = {
            "code": c.code,
            "name": c.name,
            "customer_type": str(c.get_customer_type_display()),
            "contact_name": c.contact_name,
            "province": c.province,
            "city": c.city,
            "district": c.district,
            "address": c.address,
            "status": str(c.get_status_display()),
            "tags": "、".join(sorted(t.name for t in c.tags.all())),
            "owner": c.owner.display_name if c.owner_id else "",
            "department": c.department.name if c.department_id else "",
            "review_status": str(c.get_review_status_display()),
            "notes": c.notes,
            "created_at": timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            "updated_at": timezone.localtime(c.updated_at).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for field in DICTIONARY_FIELDS:
            code = getattr(c, field)
            values[field] = self.labels[field].get(code, code)
        values.update(selectors.sensitive_values(self.user, c))
        return values

    def cells(self, c: Customer) -> list[Any]:
        values = self.values(c)
        stored = c.custom_fields or {}
        return [values[key] for key, _title in BASE_COLUMNS] + [
            custom_fields.export_value(f, stored.get(f.key), self.custom_labels.get(f.key))
            for f in self.fields
        ]

    def record(self, c: Customer) -> dict[str, Any]:
        """JSON: the same columns under their API names, custom values in stored form."""
        values = self.values(c)
        record = {key: values[key] for key, _title in BASE_COLUMNS}
        record["tags"] = sorted(t.name for t in c.tags.all())
        stored = c.custom_fields or {}
        record["custom_fields"] = {f.key: stored.get(f.key) for f in self.fields}
        return record


def _customers(user: Any, params: Mapping[str, Any], cap: int | None) -> Iterator[Customer]:
    filterset = selectors.customer_filter(user, params)
    if not filterset.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    qs = filterset.qs.order_by("-id")
    if cap is not None and qs.values("pk")[: cap + 1].count() > cap:
        raise ValidationError(MSG_TOO_MANY % {"cap": cap})
    return qs.iterator(chunk_size=1000)


def used_filters(params: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty list parameters of the export, for its audit entry."""
    return {
        k: str(params.get(k))
        for k in params
        if params.get(k) and k not in ("format", "csrfmiddlewaretoken", "cursor")
    }


@audited_refusals("customer.export")
def customer_export(
    *,
    actor: Any,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None = None,
    cap: int | None = -1,
) -> tables.ExportFile:
    """The customers matching ``params`` in ``actor``'s scope as an XLSX, CSV or JSON file.

    ``params`` may name a segment (``segment=<id>``) instead of, or besides, filters.
    ``cap`` bounds a page request (default: the GUANXI_EXPORT_MAX_ROWS setting); the
    command line passes None. Beyond the cap the export is refused, never silently cut."""
    require_perm(actor, EXPORT_PERM)
    if fmt not in FORMATS:
        raise ValidationError({"format": [MSG_FORMAT]})
    # segment=<id> (客户分群): its saved filters, applied within the exporter's own scope.
    params = segments.expand_params(actor, params)
    fields = custom_fields.definitions(Customer.scope_object_type)
    rows = _Row(actor, fields)
    customers = _customers(actor, params, export_max_rows() if cap == -1 else cap)
    headers = [str(title) for _key, title in BASE_COLUMNS] + [f.shown_label for f in fields]
    if fmt == "json":
        file, count = tables.write_json(rows.record(c) for c in customers)
    elif fmt == "csv":
        file, count = tables.write_csv(headers, (rows.cells(c) for c in customers))
    else:
        file, count = tables.write_xlsx(
            headers, (rows.cells(c) for c in customers), sheet=_("客户"), widths=WIDTHS
        )
    audit_record(
        actor=actor,
        action="customer.export",
        object_type="customer",
        params={"format": fmt, "filters": used_filters(params), "rows": count},
        meta=meta,
    )
    return tables.export_file(file, count, prefix="customers", fmt=fmt)
