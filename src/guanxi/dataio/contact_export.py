"""Contact exports (联系人): the contact list's rows as the exporter may see them.

The same filters as the list (``q`` and ``customer_id``, customers.contact_selectors) in the
exporter's scope (a contact follows its customer's scope); personal values masked as the
list masks them (in full for the customer's owner and holders of the sensitive-data
permission). The list shows seven columns and has no column chooser: the export carries
those first, then the rest of the contact's fields; a PDF carries the list's columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers import contact_selectors
from guanxi.customers.contacts import SENSITIVE_FIELDS, mask_value
from guanxi.dataio.exporters import Column, ExportSource
from guanxi.dataio.row_reader import Converters, LocalTime, raw_chunks

SENSITIVE_PERM = "customers.view_sensitive_customer"
COLUMNS: tuple[Column, ...] = (
    Column("name", gettext_lazy("姓名"), 12),
    Column("customer_name", gettext_lazy("客户"), 28),
    Column("title", gettext_lazy("职务"), 12),
    Column("mobile", gettext_lazy("手机号"), 14),
    Column("phone", gettext_lazy("固定电话"), 16),
    Column("email", gettext_lazy("邮箱"), 24),
    Column("wechat", gettext_lazy("微信号"), 16),
    Column("customer_code", gettext_lazy("客户编号"), 20),
    Column("department_name", gettext_lazy("部门"), 12),
    Column("birthday", gettext_lazy("生日"), 12),
    Column("is_primary", gettext_lazy("主要联系人"), 10),
    Column("notes", gettext_lazy("备注"), 30),
    Column("created_at", gettext_lazy("创建时间"), 18),
    Column("updated_at", gettext_lazy("更新时间"), 18),
)
LIST_KEYS = ("name", "customer_name", "title", "mobile", "phone", "email", "wechat")
SELECT = (
    "name",
    "customer__name",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "customer__code",
    "department_name",
    "birthday",
    "is_primary",
    "notes",
    LocalTime("created_at"),
    LocalTime("updated_at"),
    "customer__owner_id",
)
PERSONAL = tuple(zip(SENSITIVE_FIELDS, (3, 4, 5, 6), strict=True))  # mobile, phone, email, wechat


class ContactRows:
    """Raw contact rows to cells and records, personal values decrypted and masked here."""

    def __init__(self, user: Any, qs: Any) -> None:
        self.user, self.qs = user, qs
        self.convert = Converters()
        by_default = getattr(settings, "SHOW_SENSITIVE_BY_DEFAULT", True)
        self.show_owned = by_default
        self.show_all = by_default and user.has_perm(SENSITIVE_PERM)

    def _values(self) -> Iterator[list[Any]]:
        """The columns in COLUMNS order, ``is_primary`` as a bool."""
        plain, local, date = self.convert.plain, self.convert.local, self.convert.date
        me = self.user.pk
        for rows in raw_chunks(self.qs, SELECT):
            for r in rows:
                personal = [plain(r[i]) for _f, i in PERSONAL]
                if not (self.show_all or (self.show_owned and r[14] == me)):
                    personal = [
                        mask_value(f, v) for (f, _i), v in zip(PERSONAL, personal, strict=True)
                    ]
                yield [
                    r[0],
                    r[1],
                    r[2],
                    *personal,
                    r[7],
                    r[8],
                    date(r[9]),
                    bool(r[10]),
                    r[11],
                    local(r[12]),
                    local(r[13]),
                ]

    def cells(self) -> Iterator[list[Any]]:
        yes, no = _("是"), _("否")
        for values in self._values():
            values[10] = yes if values[10] else no
            yield values

    def records(self) -> Iterator[dict[str, Any]]:
        keys = [c.key for c in COLUMNS]
        for values in self._values():
            yield dict(zip(keys, values, strict=True))


def contact_source(user: Any, params: Mapping[str, Any]) -> ExportSource:
    """The contacts the list shows for ``params`` in ``user``'s scope, newest first."""
    qs = contact_selectors.contact_filter(user, params).order_by("-id")
    rows = ContactRows(user, qs)
    return ExportSource(
        queryset=qs,
        columns=list(COLUMNS),
        cells=rows.cells,
        records=rows.records,
        pdf_keys=LIST_KEYS,
        filters=params,
    )
