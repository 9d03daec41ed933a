"""Follow-up exports: the follow-up records (跟进记录) and the 我的跟进 list.

``follow-ups``: follow-up records in the exporter's scope (a follow-up follows its
customer), filtered by the same filter as the follow-up API list (``customer_id``,
``owner_id``, ``due_before``); the 我的跟进 page offers the user's own (``owner_id``).
``follow-ups-due``: exactly the 我的跟进 page — the user's own customers whose next
follow-up is due today or overdue, the most overdue first.
Neither list has a column chooser; both export every column they show plus the record's
other fields. Labels replace codes (跟进方式, 跟进结果, 客户状态).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from guanxi.customers import follow_up_selectors
from guanxi.customers.choices import CustomerStatus
from guanxi.dataio.exporters import Column, ExportSource
from guanxi.dataio.name_lookup import NameCache
from guanxi.dataio.row_reader import Converters, LocalTime, raw_chunks

FOLLOW_UP_COLUMNS: tuple[Column, ...] = (
    Column("followed_at", gettext_lazy("跟进时间"), 18),
    Column("customer_code", gettext_lazy("客户编号"), 20),
    Column("customer_name", gettext_lazy("客户名称"), 28),
    Column("contact", gettext_lazy("联系人"), 10),
    Column("method", gettext_lazy("跟进方式"), 10),
    Column("content", gettext_lazy("跟进内容"), 40),
    Column("result", gettext_lazy("跟进结果"), 10),
    Column("next_follow_up_at", gettext_lazy("下次跟进时间"), 18),
    Column("next_plan", gettext_lazy("下次跟进计划"), 30),
    Column("owner", gettext_lazy("跟进人"), 10),
    Column("created_at", gettext_lazy("创建时间"), 18),
)
FOLLOW_UP_SELECT = (
    LocalTime("followed_at"),
    "customer__code",
    "customer__name",
    "contact__name",
    "method",
    "content",
    "result",
    LocalTime("next_follow_up_at"),
    "next_plan",
    "owner_id",
    LocalTime("created_at"),
)
DUE_COLUMNS: tuple[Column, ...] = (
    Column("next_follow_up_at", gettext_lazy("下次跟进时间"), 18),
    Column("overdue_days", gettext_lazy("逾期天数"), 8),
    Column("customer_code", gettext_lazy("客户编号"), 20),
    Column("customer_name", gettext_lazy("客户名称"), 28),
    Column("contact_name", gettext_lazy("联系人"), 10),
    Column("status", gettext_lazy("客户状态"), 10),
    Column("next_plan", gettext_lazy("下次跟进计划"), 30),
    Column("last_follow_up_at", gettext_lazy("最近跟进时间"), 18),
    Column("last_method", gettext_lazy("最近跟进方式"), 10),
)
DUE_SELECT = (
    LocalTime("next_follow_up_at"),
    "code",
    "name",
    "contact_name",
    "status",
    "next_plan",
    LocalTime("last_follow_up_at"),
    "last_method",
)


def _records(columns: tuple[Column, ...], cells: Iterator[list[Any]]) -> Iterator[dict]:
    keys = [c.key for c in columns]
    for values in cells:
        yield dict(zip(keys, values, strict=True))


class FollowUpRows:
    def __init__(self, qs: Any) -> None:
        self.qs, self.convert, self.names = qs, Converters(), NameCache()
        labels = follow_up_selectors.follow_up_labels()
        self.methods, self.results = labels["method"], labels["result"]

    def cells(self) -> Iterator[list[Any]]:
        local, methods, results = self.convert.local, self.methods, self.results
        for rows in raw_chunks(self.qs, FOLLOW_UP_SELECT):
            owners = self.names.users({r[9] for r in rows})
            for r in rows:
                yield [
                    local(r[0]),
                    r[1],
                    r[2],
                    r[3] or "",
                    methods.get(r[4], r[4]),
                    r[5],
                    results.get(r[6], r[6]) if r[6] else "",
                    local(r[7]),
                    r[8],
                    owners.get(r[9], ""),
                    local(r[10]),
                ]

    def records(self) -> Iterator[dict[str, Any]]:
        return _records(FOLLOW_UP_COLUMNS, self.cells())


def follow_up_source(user: Any, params: Mapping[str, Any]) -> ExportSource:
    """Follow-up records matching ``params`` in ``user``'s scope, newest first."""
    filterset = follow_up_selectors.follow_up_filter(user, params)
    if not filterset.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    qs = filterset.qs.order_by("-followed_at", "-id")
    rows = FollowUpRows(qs)
    return ExportSource(
        queryset=qs,
        columns=list(FOLLOW_UP_COLUMNS),
        cells=rows.cells,
        records=rows.records,
        filters=params,
    )


class DueRows:
    def __init__(self, qs: Any) -> None:
        self.qs, self.convert = qs, Converters()
        self.methods = follow_up_selectors.follow_up_labels()["method"]
        self.statuses = {k: str(v) for k, v in CustomerStatus.choices}

    def cells(self) -> Iterator[list[Any]]:
        local = self.convert.local
        today = timezone.localdate()
        for rows in raw_chunks(self.qs, DUE_SELECT):
            for r in rows:
                due = local(r[0])
                overdue = (today - dt.date.fromisoformat(due[:10])).days if due else None
                yield [
                    due,
                    overdue,
                    r[1],
                    r[2],
                    r[3],
                    self.statuses.get(r[4], r[4]),
                    r[5] or "",
                    local(r[6]),
                    self.methods.get(r[7] or "", r[7] or ""),
                ]

    def records(self) -> Iterator[dict[str, Any]]:
        return _records(DUE_COLUMNS, self.cells())


def due_source(user: Any, params: Mapping[str, Any]) -> ExportSource:
    """The 我的跟进 list (it has no filters), the most overdue first."""
    qs = follow_up_selectors.due_queryset(user).order_by(follow_up_selectors.DUE_ORDERING, "id")
    rows = DueRows(qs)
    return ExportSource(
        queryset=qs, columns=list(DUE_COLUMNS), cells=rows.cells, records=rows.records
    )
