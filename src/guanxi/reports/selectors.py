"""Every number of the dashboard and the standard reports, within the caller's data scope.

Each function reads through the customer list's own scoped, filtered queryset
(``customer_filter``) or the follow-up scope (``follow_up_queryset``), so a report's count is
the count the list shows for the same caller and filters; each bucket carries the ``filter``
that opens exactly its rows in that list. When nothing narrows the question beyond the
caller's scope (and the date range), the answer comes from the trigger-maintained tallies
(``reports.tallies``) instead of a scan; the tallies always equal a fresh count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from guanxi.core.scopes import DEPARTMENT, DEPARTMENT_TREE, department_ids, effective_scope
from guanxi.customers.choices import CustomerStatus
from guanxi.customers.filters import (
    BLANK,
    FOLLOW_UP_DUE_OVERDUE,
    FOLLOW_UP_DUE_TODAY,
    CustomerFilter,
)
from guanxi.customers.follow_up_selectors import follow_up_filter
from guanxi.customers.models import Customer, StatusChange
from guanxi.customers.selectors import customer_filter
from guanxi.reports import tallies
from guanxi.reports.labels import labels_for, status_labels
from guanxi.reports.periods import MAX_BUCKETS, PERIODS, bucket_count, buckets
from guanxi.reports.report_errors import (
    MSG_BAD_CHOICE,
    MSG_RANGE_ORDER,
    MSG_RANGE_TOO_LONG,
    ReportParamsError,
)

__all__ = [
    "ACTIVITY_DIMENSIONS",
    "DISTRIBUTION_DIMENSIONS",
    "PERIODS",
    "REPORT_PERMISSION",
    "ReportParamsError",
    "customer_distribution",
    "customer_growth",
    "dashboard_summary",
    "follow_up_activity",
    "status_transitions",
]

DISTRIBUTION_DIMENSIONS = (
    "status",
    "category",
    "industry",
    "source",
    "customer_type",
    "province",
    "city",
    "owner",
    "department",
)
# Who may see reports at all (pages and API answer 403 without it); scope decides the rest.
REPORT_PERMISSION = "reports.view_report"
ACTIVITY_DIMENSIONS = ("owner", "department", "day", "method")
# The customer-list filter parameter that selects one bucket of each dimension.
_DIMENSION_PARAM = {
    "status": "status",
    "category": "category",
    "industry": "industry",
    "source": "source",
    "customer_type": "customer_type",
    "province": "province",
    "owner": "owner_id",
    "department": "department_id",
}
# The model field each dimension groups on.
_DIMENSION_FIELD = {
    **{d: d for d in _DIMENSION_PARAM},
    "owner": "owner_id",
    "department": "department_id",
}


# -- parameters ---------------------------------------------------------------------------


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ReportParamsError({name: [str(MSG_BAD_CHOICE % {"value": value})]})


def _check_range(date_from: dt.date, date_to: dt.date, period: str = "day") -> None:
    if date_from > date_to:
        raise ReportParamsError({"to": [str(MSG_RANGE_ORDER)]})
    if bucket_count(period, date_from, date_to) > MAX_BUCKETS[period]:
        raise ReportParamsError({"to": [str(MSG_RANGE_TOO_LONG % {"count": MAX_BUCKETS[period]})]})


def _errors(form_errors: Mapping[str, Any]) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in form_errors.items()}


def _narrows(filterset: Any) -> bool:
    """Whether any filter beyond the scope is in force (then the tallies cannot answer)."""
    return any(value not in (None, "", [], ()) for value in filterset.form.cleaned_data.values())


def _customers(user: Any, params: Mapping[str, Any] | None) -> tuple[QuerySet, bool]:
    """The customer list's scoped, filtered queryset, and whether filters narrow it."""
    filterset = customer_filter(user, params or {})
    if not filterset.is_valid():
        raise ReportParamsError(_errors(filterset.errors))
    return filterset.qs.order_by().prefetch_related(None), _narrows(filterset)


def local_start(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in settings.TIME_ZONE, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _in_days(field: str, date_from: dt.date, date_to: dt.date) -> dict[str, dt.datetime]:
    return {
        f"{field}__gte": local_start(date_from),
        f"{field}__lt": local_start(date_to + dt.timedelta(days=1)),
    }


def _per_day(qs: QuerySet, field: str) -> dict[dt.date, int]:
    rows = qs.annotate(day=TruncDate(field)).values("day").annotate(n=Count("pk"))
    return {row["day"]: row["n"] for row in rows.order_by()}


# -- customer distribution -------------------------------------------------------------------


def _bucket_filter(by: str, key: str) -> dict[str, str]:
    if by == "city":
        province, _sep, city = key.partition("/")
        return {"province": province or BLANK, "city": city or BLANK}
    return {_DIMENSION_PARAM[by]: key or BLANK}


def _direct_distribution(qs: QuerySet, by: str) -> dict[str, int]:
    if by == "city":
        rows = qs.values_list("province", "city").annotate(n=Count("pk"))
        return {f"{p}/{c}" if (p or c) else "": n for p, c, n in rows}
    rows = qs.values_list(_DIMENSION_FIELD[by]).annotate(n=Count("pk"))
    return {("" if value is None else str(value)): n for value, n in rows}


def _items(by: str, counts: Mapping[str, int], filter_of: Any) -> list[dict[str, Any]]:
    labels = labels_for(by, counts)
    items = [
        {"key": key, "label": labels[key], "count": n, "filter": filter_of(key)}
        for key, n in counts.items()
        if n
    ]
    items.sort(key=lambda item: (-item["count"], item["label"]))
    return items


def customer_distribution(
    *, user: Any, by: str, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """How the caller's customers (as the list filters them) split over one dimension."""
    _choice("by", by, DISTRIBUTION_DIMENSIONS)
    qs, narrowed = _customers(user, params)
    counts = _direct_distribution(qs, by) if narrowed else tallies.distribution(user, by)
    items = _items(by, counts, lambda key: _bucket_filter(by, key))
    return {"by": by, "total": sum(i["count"] for i in items), "items": items}


# -- growth --------------------------------------------------------------------------------


def customer_growth(
    *,
    user: Any,
    period: str,
    date_from: dt.date,
    date_to: dt.date,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """New customers (by local creation date) and customers lost (status changes to 流失)."""
    _choice("period", period, PERIODS)
    _check_range(date_from, date_to, period)
    qs, narrowed = _customers(user, params)
    if narrowed:
        new = _per_day(qs.filter(**_in_days("created_at", date_from, date_to)), "created_at")
        lost = _per_day(
            _changes(qs, date_from, date_to).filter(to_status=CustomerStatus.LOST), "changed_at"
        )
    else:
        new = tallies.new_per_day(user, date_from, date_to)
        lost = tallies.lost_per_day(user, date_from, date_to)
    items = []
    for bucket in buckets(period, date_from, date_to):
        days = [d for d in new.keys() | lost.keys() if bucket.start <= d <= bucket.end]
        items.append(
            {
                "key": bucket.key,
                "start": bucket.start,
                "end": bucket.end,
                "new": sum(new.get(d, 0) for d in days),
                "lost": sum(lost.get(d, 0) for d in days),
                "filter": {
                    "created_from": bucket.start.isoformat(),
                    "created_to": bucket.end.isoformat(),
                },
            }
        )
    return {
        "period": period,
        "items": items,
        "new_total": sum(i["new"] for i in items),
        "lost_total": sum(i["lost"] for i in items),
    }


def _changes(customers: QuerySet, date_from: dt.date, date_to: dt.date) -> QuerySet:
    return StatusChange.objects.filter(
        customer_id__in=customers.values("pk"), **_in_days("changed_at", date_from, date_to)
    ).order_by()


# -- follow-up activity ----------------------------------------------------------------------


def _activity_filter(by: str, key: str, date_from: dt.date, date_to: dt.date) -> dict[str, str]:
    if by == "day":
        return {"followed_from": key, "followed_to": key}
    span = {"followed_from": date_from.isoformat(), "followed_to": date_to.isoformat()}
    param = {"owner": "owner_id", "department": "department_id", "method": "method"}[by]
    return {param: key or BLANK, **span}


def follow_up_activity(
    *,
    user: Any,
    by: str,
    date_from: dt.date,
    date_to: dt.date,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Follow-ups made in the period (local dates), per follow-up owner, their department,
    day or method. ``params`` are follow-up list filters (FollowUpFilter); each item's
    ``filter`` opens its follow-ups in that list."""
    _choice("by", by, ACTIVITY_DIMENSIONS)
    _check_range(date_from, date_to)
    filterset = follow_up_filter(user, params or {})
    if not filterset.is_valid():
        raise ReportParamsError(_errors(filterset.errors))
    if by == "day" and not _narrows(filterset):
        counts = tallies.follow_ups_per_day(user, date_from, date_to)
    elif by in ("owner", "department") and not _narrows(filterset):
        per_owner = tallies.follow_ups_per_owner(user, date_from, date_to)
        counts = per_owner if by == "owner" else tallies.owners_to_departments(per_owner)
    else:
        qs = (
            filterset.qs.order_by()
            .select_related(None)
            .filter(**_in_days("followed_at", date_from, date_to))
        )
        counts = _direct_activity(qs, by)
    if by == "day":
        counts = {d.isoformat(): counts.get(d.isoformat(), 0) for d in _days(date_from, date_to)}
        items = [
            {
                "key": key,
                "label": key,
                "count": n,
                "filter": _activity_filter(by, key, date_from, date_to),
            }
            for key, n in counts.items()
        ]
    else:
        items = _items(by, counts, lambda key: _activity_filter(by, key, date_from, date_to))
    return {"by": by, "total": sum(i["count"] for i in items), "items": items}


def _direct_activity(qs: QuerySet, by: str) -> dict[str, int]:
    if by == "day":
        return {day.isoformat(): n for day, n in _per_day(qs, "followed_at").items()}
    field = {"owner": "owner_id", "department": "owner__department_id", "method": "method"}[by]
    rows = qs.values_list(field).annotate(n=Count("pk"))
    return {("" if value is None else str(value)): n for value, n in rows}


def _days(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    return [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]


# -- status transitions ----------------------------------------------------------------------


def status_transitions(
    *,
    user: Any,
    date_from: dt.date,
    date_to: dt.date,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Status changes in the period of the caller's customers (as the list filters them)."""
    _check_range(date_from, date_to)
    qs, narrowed = _customers(user, params)
    if narrowed:
        rows = _changes(qs, date_from, date_to).values_list("from_status", "to_status")
        pairs = dict(((f, t), n) for f, t, n in rows.annotate(n=Count("pk")))
    else:
        pairs = tallies.transitions(user, date_from, date_to)
    names = {s["key"]: s["label"] for s in status_labels()}
    items = [
        {
            "from": from_status,
            "from_label": names.get(from_status, from_status) if from_status else "—",
            "to": to_status,
            "to_label": names.get(to_status, to_status),
            "count": n,
        }
        for (from_status, to_status), n in pairs.items()
        if n
    ]
    items.sort(key=lambda i: (-i["count"], i["from"], i["to"]))
    return {"total": sum(i["count"] for i in items), "items": items, "statuses": status_labels()}


# -- dashboard -------------------------------------------------------------------------------


def dashboard_summary(*, user: Any) -> dict[str, Any]:
    """The KPIs of the home dashboard, each with the list filter that shows its customers."""
    today = timezone.localdate()
    week_start = today - dt.timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    by_status = customer_distribution(user=user, by="status")
    new = tallies.new_per_day(user, min(week_start, month_start), today)
    kpi_filters = {
        "customers": {},
        "new_week": {"created_from": week_start.isoformat()},
        "new_month": {"created_from": month_start.isoformat()},
        "due_today": {"follow_up_due": FOLLOW_UP_DUE_TODAY},
        "overdue": {"follow_up_due": FOLLOW_UP_DUE_OVERDUE},
    }
    return {
        "customers": by_status["total"],
        "new_week": sum(n for day, n in new.items() if day >= week_start),
        "new_month": sum(n for day, n in new.items() if day >= month_start),
        "by_status": by_status["items"],
        "due_today": _due_count(user, kpi_filters["due_today"]),
        "overdue": _due_count(user, kpi_filters["overdue"]),
        "kpi_filters": kpi_filters,
    }


def _due_count(user: Any, params: Mapping[str, Any]) -> int:
    """Count of the list with ``follow_up_due``. A department scope is (department in the
    tree) OR (own records); counted as two disjoint parts, each part walks its own index
    range (department_id, next_follow_up_at) / (owner_id, next_follow_up_at) instead of
    checking every due customer of the company against the scope."""
    qs, _narrowed = _customers(user, params)
    scope = effective_scope(user, "view", "customer")
    if scope not in (DEPARTMENT, DEPARTMENT_TREE) or qs.query.is_empty():
        return qs.count()
    ids = department_ids(user, with_descendants=scope == DEPARTMENT_TREE)
    # The tree part without the scope's OR: inside the tree the scope holds anyway, and the
    # OR would turn an index-only count into a bitmap scan of every due row (0.5 s at 1M).
    unscoped = CustomerFilter(params, queryset=Customer.objects.alive()).qs.order_by()
    in_tree = unscoped.filter(department_id__in=ids).count()
    own_elsewhere = qs.filter(owner_id=user.pk).exclude(department_id__in=ids).count()
    return in_tree + own_elsewhere
