"""The lists that can be exported, one entry each: who may export it, where its page is, and
how to build the rows of one export (the list's own filter within the exporter's scope).

Adding a list: write a module with a ``build(user, params) -> ExportSource`` (see
dataio.customer_export for the fullest one) and register it in ``EXPORTERS``. Everything
else (formats, caps, background jobs, audit, the 导出 menu, the command line) is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import NotFound

FORMATS = ("xlsx", "csv", "json", "xml", "pdf")
FORMAT_LABELS = {
    "xlsx": "Excel（.xlsx）",
    "csv": "CSV",
    "json": "JSON",
    "xml": "XML",
    "pdf": "PDF",
}


@dataclass(frozen=True)
class Column:
    """One exported column: its key in JSON and XML, its title in sheets, a width hint."""

    key: str
    title: Any
    width: int = 12


@dataclass
class ExportSource:
    """The rows of one export, ready to write: headers for sheets, records for JSON and XML.

    ``queryset`` is the scoped, filtered queryset (counted before anything is written);
    ``cells`` and ``records`` iterate it once each, in the list's order. Cells are str, int, float,
    Decimal or None only (written to sheets unchecked). ``pdf_keys`` names the
    columns a PDF shows (a printed page cannot hold them all); empty means every column.
    """

    queryset: QuerySet
    columns: list[Column]
    cells: Callable[[], Iterator[Sequence[Any]]]
    records: Callable[[], Iterator[dict[str, Any]]]
    pdf_keys: Sequence[str] = ()
    # The same cells a chunk at a time, column by column (optional; CSV checks a column for
    # formula-like text in one pass instead of cell by cell).
    columns_by_chunk: Callable[[], Iterator[list[Sequence[Any]]]] | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [str(c.title) for c in self.columns]

    @property
    def widths(self) -> list[int]:
        return [c.width for c in self.columns]

    def count(self, cap: int) -> int:
        """Matching rows up to ``cap`` + 1 (then "more than cap"): never a full count."""
        return self.queryset.order_by().values("pk")[: cap + 1].count()


@dataclass(frozen=True)
class Exporter:
    """One exportable list (``kind`` is its name in URLs and on the command line)."""

    kind: str
    label: Any  # what is exported, in titles and file names shown to people
    object_type: str  # audit object type; the audit action is ``<object_type>.export``
    perms: tuple[str, ...]  # every one is required
    list_url: str  # where a refused page export goes back to
    build: str  # dotted path of ``build(user, params) -> ExportSource``
    xml_root: str
    xml_record: str
    filterset: str = ""  # dotted path of the list's FilterSet (labels for 我的导出)

    @property
    def action(self) -> str:
        return f"{self.object_type}.export"

    def source(self, user: Any, params: Mapping[str, Any]) -> ExportSource:
        return import_string(self.build)(user, params)


EXPORTERS: dict[str, Exporter] = {
    e.kind: e
    for e in (
        Exporter(
            kind="customers",
            label=_("客户"),
            object_type="customer",
            perms=("customers.export_customer",),
            list_url="customers:list",
            build="guanxi.dataio.customer_export.customer_source",
            xml_root="customers",
            xml_record="customer",
            filterset="guanxi.customers.filters.CustomerFilter",
        ),
        Exporter(
            kind="contacts",
            label=_("联系人"),
            object_type="contact",
            perms=("customers.export_customer", "customers.view_contact"),
            list_url="customers:contact_list",
            build="guanxi.dataio.contact_export.contact_source",
            xml_root="contacts",
            xml_record="contact",
        ),
        Exporter(
            kind="follow-ups",
            label=_("跟进记录"),
            object_type="follow_up",
            perms=("customers.export_customer", "customers.view_followup"),
            list_url="customers:follow_up_due",
            build="guanxi.dataio.follow_up_export.follow_up_source",
            xml_root="follow_ups",
            xml_record="follow_up",
            filterset="guanxi.customers.follow_up_selectors.FollowUpFilter",
        ),
        Exporter(
            kind="follow-ups-due",
            label=_("我的跟进"),
            object_type="follow_up_due",
            perms=("customers.export_customer",),
            list_url="customers:follow_up_due",
            build="guanxi.dataio.follow_up_export.due_source",
            xml_root="due_follow_ups",
            xml_record="customer",
        ),
    )
}


PLAIN_LABELS = {"q": _("搜索"), "customer_id": _("客户"), "segment": _("客户分群")}


def describe_filters(kind: str, params: Mapping[str, Any]) -> list[str]:
    """``名称：值`` for each filter of an export, as people read them (choice values by their
    label), for 我的导出; the sort order is not a filter and is left out."""
    exporter = EXPORTERS.get(kind)
    filters: dict[str, Any] = {}
    if exporter and exporter.filterset:
        filterset = import_string(exporter.filterset)
        model = filterset._meta.model
        filters = filterset(queryset=model.objects.none()).filters
    shown = []
    for name, value in params.items():
        if name == "ordering" or name.startswith("_"):
            continue
        field = filters.get(name)
        label = getattr(field, "label", None) or PLAIN_LABELS.get(name, name)
        choices = dict(getattr(field, "extra", {}).get("choices") or ())
        shown.append(f"{label}：{choices.get(value, value)}")
    return shown


def exporter_get(kind: str) -> Exporter:
    """The exporter named ``kind``, or NotFound (an unknown list is a 404, not an error)."""
    try:
        return EXPORTERS[kind]
    except KeyError as exc:
        raise NotFound() from exc
