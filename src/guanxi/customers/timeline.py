"""The customer timeline (互动历史): one newest-first stream merged from many sources.

Each source (follow-ups, status changes, hand-recorded interactions here; orders, tickets and
campaigns from their own apps later) registers a function that returns the newest ``limit``
items of one customer strictly before a cursor, read from an index on (customer, -time, -id).
The stream asks every source for ``limit + 1`` items, merges them in Python and cuts: a page
costs one indexed query per source however long the history is.

Items are totally ordered by (time, kind, id) descending; the cursor is the last item's key,
so paging never skips or repeats an item, even when several share a timestamp.

Another app adds its source at import time (e.g. from its ``AppConfig.ready``)::

    from guanxi.customers import timeline

    @timeline.source("order", _("订单"), perm="sales.view_order")
    def orders(customer, before, limit, labels):
        qs = Order.objects.filter(customer=customer)
        return [timeline.TimelineItem(...) for o in timeline.before(qs, "ordered_at", "order",
                                                                     before)[:limit]]
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guanxi.core.dictionaries import dictionary_labels
from guanxi.core.pagination import DEFAULT_LIMIT, BadCursor, page_limit
from guanxi.customers.models import Customer, FollowUp, Interaction, StatusChange


@dataclass(frozen=True)
class Cursor:
    """Position in the stream: items strictly older than (at, kind, id) come next."""

    at: dt.datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.kind, self.id], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            at, kind, pk = json.loads(base64.urlsafe_b64decode(padded))
            when = parse_datetime(at) if isinstance(at, str) else None
            if when is None or when.tzinfo is None or not isinstance(kind, str):
                raise BadCursor(text)
            if not isinstance(pk, int) or isinstance(pk, bool):
                raise BadCursor(text)
            return cls(when, kind, pk)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise BadCursor(text) from exc


@dataclass
class TimelineItem:
    """One entry as pages and the API show it; ``data`` holds kind-specific fields."""

    kind: str
    id: int
    at: dt.datetime
    title: str
    summary: str = ""
    actor_id: int | None = None
    actor_name: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[dt.datetime, str, int]:
        return (self.at, self.kind, self.id)


# (customer, cursor or None, limit, per-request label cache) -> newest items before the cursor
Fetch = Callable[[Customer, Cursor | None, int, "Labels"], list[TimelineItem]]


@dataclass(frozen=True)
class Source:
    kind: str
    label: Any
    fetch: Fetch
    perm: str | None = None  # the reader needs it to see this source at all
    order: int = 100  # position of the filter chip


SOURCES: dict[str, Source] = {}


def source(kind: str, label: Any, *, perm: str | None = None, order: int = 100) -> Any:
    """Register ``fetch`` as the timeline source of ``kind`` (the last registration wins,
    so a module reloaded in tests does not register twice)."""

    def register(fetch: Fetch) -> Fetch:
        SOURCES[kind] = Source(kind=kind, label=label, fetch=fetch, perm=perm, order=order)
        return fetch

    return register


class Labels:
    """Dictionary labels read at most once per request, whichever sources ask for them."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, str]] = {}

    def __call__(self, dict_code: str, code: str) -> str:
        if dict_code not in self._cache:
            self._cache[dict_code] = dictionary_labels(dict_code)
        return self._cache[dict_code].get(code, code)


def before(qs: QuerySet, time_field: str, kind: str, cursor: Cursor | None) -> QuerySet:
    """``qs`` ordered newest first and cut at ``cursor`` in the (time, kind, id) order, as
    one range over the source's (customer, -time, -id) index."""
    order = qs.order_by(f"-{time_field}", "-id")
    if cursor is None:
        return order
    if kind < cursor.kind:  # same time sorts after the cursor's kind: still "older"
        cond = Q(**{f"{time_field}__lte": cursor.at})
    elif kind > cursor.kind:
        cond = Q(**{f"{time_field}__lt": cursor.at})
    else:
        cond = Q(**{f"{time_field}__lt": cursor.at}) | Q(
            **{time_field: cursor.at, "id__lt": cursor.id}
        )
    return order.filter(cond)


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None


def visible_sources(user: Any, kinds: Iterable[str] | None = None) -> list[Source]:
    """The sources ``user`` may read, in chip order, limited to ``kinds`` when given."""
    wanted = set(kinds or ())
    return sorted(
        (
            s
            for s in SOURCES.values()
            if (not wanted or s.kind in wanted) and (s.perm is None or user.has_perm(s.perm))
        ),
        key=lambda s: (s.order, s.kind),
    )


def timeline_page(
    *,
    user: Any,
    customer: Customer,
    kinds: Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> TimelinePage:
    """One page of ``customer``'s timeline (the caller has already read the customer
    through its scoped selector). BadCursor for a cursor we did not make."""
    limit = page_limit(limit)
    position = Cursor.decode(cursor) if cursor else None
    labels = Labels()
    streams = [s.fetch(customer, position, limit + 1, labels) for s in visible_sources(user, kinds)]
    merged = list(heapq.merge(*streams, key=TimelineItem.sort_key, reverse=True))
    items = merged[:limit]
    more = len(merged) > limit
    next_cursor = Cursor(items[-1].at, items[-1].kind, items[-1].id).encode() if more else None
    return TimelinePage(items=items, next_cursor=next_cursor)


# --- the sources this app owns ------------------------------------------------------------


@source("follow_up", _("跟进"), perm="customers.view_followup", order=10)
def _follow_ups(
    customer: Customer, cursor: Cursor | None, limit: int, labels: Labels
) -> list[TimelineItem]:
    qs = FollowUp.objects.alive().filter(customer_id=customer.pk)
    rows = before(qs, "followed_at", "follow_up", cursor).select_related("owner", "contact")
    items = []
    for f in rows[:limit]:
        method = labels("followup_method", f.method)
        result = labels("followup_result", f.result) if f.result else ""
        items.append(
            TimelineItem(
                kind="follow_up",
                id=f.pk,
                at=f.followed_at,
                title=f"{method}" + (f" · {result}" if result else ""),
                summary=f.content,
                actor_id=f.owner_id,
                actor_name=f.owner.display_name,
                data={
                    "method": f.method,
                    "method_label": method,
                    "result": f.result,
                    "result_label": result,
                    "contact_id": f.contact_id,
                    "contact_name": f.contact.name if f.contact else "",
                    "next_follow_up_at": f.next_follow_up_at,
                    "next_plan": f.next_plan,
                },
            )
        )
    return items


@source("status_change", _("状态变更"), order=20)
def _status_changes(
    customer: Customer, cursor: Cursor | None, limit: int, labels: Labels
) -> list[TimelineItem]:
    qs = StatusChange.objects.filter(customer_id=customer.pk)
    rows = before(qs, "changed_at", "status_change", cursor).select_related("changed_by")
    items = []
    for s in rows[:limit]:
        to_label = str(s.get_to_status_display())
        from_label = str(s.get_from_status_display()) if s.from_status else ""
        items.append(
            TimelineItem(
                kind="status_change",
                id=s.pk,
                at=s.changed_at,
                title=f"{from_label} → {to_label}" if from_label else to_label,
                summary=s.reason,
                actor_id=s.changed_by_id,
                actor_name=s.changed_by.display_name,
                data={"from_status": s.from_status, "to_status": s.to_status},
            )
        )
    return items


@source("interaction", _("互动"), perm="customers.view_interaction", order=30)
def _interactions(
    customer: Customer, cursor: Cursor | None, limit: int, labels: Labels
) -> list[TimelineItem]:
    qs = Interaction.objects.alive().filter(customer_id=customer.pk)
    rows = before(qs, "occurred_at", "interaction", cursor).select_related("staff")
    items = []
    for i in rows[:limit]:
        kind_label = labels("interaction_kind", i.kind)
        items.append(
            TimelineItem(
                kind="interaction",
                id=i.pk,
                at=i.occurred_at,
                title=f"{kind_label} · {i.subject}",
                summary=i.details,
                actor_id=i.staff_id,
                actor_name=i.staff.display_name,
                data={"interaction_kind": i.kind, "kind_label": kind_label, "subject": i.subject},
            )
        )
    return items
