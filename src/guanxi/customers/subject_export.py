"""A data subject's copy of everything held about them (PIPL art. 45): the customer record
with its personal values in full, its contacts, the lawful bases, the status history, the
change history and the merges, as JSON or as an XLSX workbook with one sheet per part. Audited."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.audit.actions import action_label
from guanxi.audit.models import AuditEntry
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core import custom_fields
from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.permissions import require_perm
from guanxi.customers import selectors
from guanxi.customers.models import Contact, Customer, CustomerMerge
from guanxi.customers.privacy import PRIVACY_PERM
from guanxi.customers.services import custom_field_definitions
from guanxi.customers.validation import DICTIONARY_FIELDS, EDITABLE_FIELDS
from guanxi.dataio import tables

FORMATS = ("json", "xlsx")
MSG_FORMAT = gettext_lazy("导出格式只能是 json 或 xlsx")
# Every field a user edits (customers.validation) plus what the system keeps about them.
RECORD_FIELDS = (
    "code",
    *(f for f in EDITABLE_FIELDS if f not in ("tags", "owner_id")),
    "created_at",
    "updated_at",
    "last_follow_up_at",
    "erased_at",
)


def _time(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _person(user: Any) -> str:
    return (getattr(user, "name", "") or getattr(user, "username", "")) if user else ""


def record_items(customer: Customer) -> list[tuple[str, Any]]:
    """(label, value) for every field of the record, personal values in full."""
    items: list[tuple[str, Any]] = []
    for name in RECORD_FIELDS:
        field = Customer._meta.get_field(name)
        value = getattr(customer, name)
        if name in DICTIONARY_FIELDS:
            value = dictionary_labels(DICTIONARY_FIELDS[name]).get(value, value)
        elif getattr(field, "choices", None):
            value = dict(field.choices).get(value, value)
        elif name.endswith("_at"):
            value = _time(value)
        items.append((str(field.verbose_name), value or ""))
    items.append((_("标签"), "、".join(sorted(t.name for t in customer.tags.all()))))
    items.append((_("负责人"), _person(customer.owner)))
    items.append((_("所属部门"), customer.department.name if customer.department_id else ""))
    definitions = custom_field_definitions()
    labels = custom_fields.choice_labels(definitions)
    stored = customer.custom_fields or {}
    for definition in definitions:
        if definition.key in stored:
            text = custom_fields.display_value(
                definition, stored[definition.key], labels.get(definition.key)
            )
            items.append((definition.shown_label, text))
    return items


def subject_data(customer: Customer) -> dict[str, list[dict[str, Any]]]:
    """The parts of the copy, each a list of rows (column → value)."""
    consents = [
        {
            _("个人信息主体"): c.subject_name,
            _("处理依据"): c.get_basis_display(),
            _("处理目的与范围"): c.scope,
            _("取得方式"): c.source,
            _("凭证"): c.evidence,
            _("取得时间"): _time(c.given_at),
            _("有效期至"): _time(c.expires_at),
            _("撤回时间"): _time(c.withdrawn_at),
            _("撤回原因"): c.withdrawn_reason,
        }
        for c in customer.consents.all()
    ]
    statuses = [
        {
            _("变更时间"): _time(s.changed_at),
            _("原状态"): s.get_from_status_display() if s.from_status else "",
            _("新状态"): s.get_to_status_display(),
            _("原因"): s.reason,
            _("操作人"): _person(s.changed_by),
        }
        for s in selectors.customer_status_history(customer=customer)
    ]
    entries = (
        AuditEntry.objects.filter(object_type="customer", object_id=str(customer.pk))
        .select_related("actor")
        .order_by("id")
    )
    history = [
        {
            _("时间"): _time(e.occurred_at),
            _("操作"): str(action_label(e.action)),
            _("操作人"): _person(e.actor) or e.actor_username,
            _("结果"): str(e.get_result_display()),
            _("变更"): json.dumps(e.changes, ensure_ascii=False) if e.changes else "",
        }
        for e in entries.iterator(chunk_size=500)
    ]
    merges = [
        {
            _("合并时间"): _time(m.merged_at),
            _("被合并客户"): m.merged_before.get("name", ""),
            _("操作人"): _person(m.merged_by),
            _("合并说明"): m.reason,
        }
        for m in CustomerMerge.objects.filter(survivor=customer).select_related("merged_by")
    ]
    contacts = [
        {
            _("姓名"): c.name,
            _("职务"): c.title,
            _("部门"): c.department_name,
            _("手机号"): c.mobile,
            _("固定电话"): c.phone,
            _("邮箱"): c.email,
            _("微信号"): c.wechat,
            _("生日"): c.birthday.isoformat() if c.birthday else "",
            _("备注"): c.notes,
            _("主要联系人"): _("是") if c.is_primary else _("否"),
        }
        for c in Contact.objects.alive().filter(customer=customer)
    ]
    return {
        "customer": [{_("字段"): label, _("值"): value} for label, value in record_items(customer)],
        "contacts": contacts,
        "consents": consents,
        "status_changes": statuses,
        "history": history,
        "merges": merges,
    }


SHEET_TITLES = {
    "customer": gettext_lazy("客户信息"),
    "contacts": gettext_lazy("联系人"),
    "consents": gettext_lazy("处理依据"),
    "status_changes": gettext_lazy("状态变更"),
    "history": gettext_lazy("变更记录"),
    "merges": gettext_lazy("合并记录"),
}


def _sheets(data: dict[str, list[dict[str, Any]]]) -> list[tables.Sheet]:
    sheets = []
    for part, rows in data.items():
        headers = list(rows[0]) if rows else [_("无记录")]
        sheets.append(
            tables.Sheet(
                str(SHEET_TITLES[part]),
                headers,
                [list(r.values()) for r in rows],
                widths=[24] * len(headers),
            )
        )
    return sheets


@audited_refusals("customer.subject_export")
def subject_export(
    *, actor: Any, customer_id: Any, fmt: str, meta: RequestMeta | None = None
) -> tables.ExportFile:
    """Everything held about one customer, for a data-subject request (needs the privacy
    permission and the customer in the actor's read scope)."""
    require_perm(actor, PRIVACY_PERM)
    if fmt not in FORMATS:
        raise ValidationError({"format": [MSG_FORMAT]})
    customer = selectors.customer_get(user=actor, pk=customer_id)
    data = subject_data(customer)
    if fmt == "json":
        file, rows = tables.write_json([{"customer_code": customer.code, **data}])
    else:
        file, rows = tables.write_xlsx_sheets(_sheets(data))
    audit_record(
        actor=actor,
        action="customer.subject_export",
        obj=customer,
        params={"format": fmt, "parts": {k: len(v) for k, v in data.items()}},
        meta=meta,
    )
    return tables.export_file(file, rows, prefix=f"personal-data-{customer.code}", fmt=fmt)
