"""A report request's parameters: the controls (range, period, dimension) apart from the list
filters, so the filters can be passed on untouched to the selectors and to drill-down links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from guanxi.reports.report_errors import MSG_DATE_RANGE, MSG_DATE_REQUIRED, ReportParamsError

# The dates a report accepts: any business record's, and far enough from the calendar's ends
# that a default range reaching back from ``to`` (or a day past either end) is still a date.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)

# Report controls; everything else in the query string is a list filter.
CONTROL_KEYS = ("from", "to", "period", "by", "format", "cursor", "key")
# The follow-up list filters an activity report passes on (FollowUpFilter).
FOLLOW_UP_KEYS = ("owner_id", "department_id", "method", "customer_id")


@dataclass(frozen=True)
class ReportParams:
    """Parsed controls plus the raw non-empty filters (validated later by the list filter)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    period: str = ""
    by: str = ""
    filters: dict[str, str] = field(default_factory=dict)


def _flat(params: Mapping[str, Any] | None) -> dict[str, str]:
    """One string per key (a QueryDict's last value), empty values dropped."""
    out: dict[str, str] = {}
    for key in params or {}:
        value = params.get(key) if hasattr(params, "getlist") else params[key]  # type: ignore[union-attr]
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        text = "" if value is None else str(value).strip()
        if text:
            out[str(key)] = text
    return out


def _date_range_message() -> str:
    return str(MSG_DATE_RANGE % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()})


def _date(raw: dict[str, str], name: str) -> dt.date | None:
    if name not in raw:
        return None
    try:
        value = dt.date.fromisoformat(raw[name])
    except ValueError as exc:
        raise ReportParamsError({name: [str(MSG_DATE_REQUIRED)]}) from exc
    if not EARLIEST <= value <= LATEST:
        raise ReportParamsError({name: [_date_range_message()]})
    return value


def parse_params(
    params: Mapping[str, Any] | None,
    *,
    default_days: int = 30,
    default_period: str = "",
    default_by: str = "",
    filter_keys: tuple[str, ...] | None = None,
) -> ReportParams:
    """Controls with their defaults (the last ``default_days`` days up to today, local);
    a malformed date is a ReportParamsError naming the field."""
    raw = _flat(params)
    errors: dict[str, list[str]] = {}
    dates: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        try:
            dates[name] = _date(raw, name)
        except ReportParamsError as exc:
            errors.update(exc.errors)
    if errors:
        raise ReportParamsError(errors)
    today = timezone.localdate()
    date_to = dates["to"] or today
    date_from = dates["from"] or date_to - dt.timedelta(days=default_days - 1)
    filters = {k: v for k, v in raw.items() if k not in CONTROL_KEYS}
    if filter_keys is not None:
        filters = {k: v for k, v in filters.items() if k in filter_keys}
    return ReportParams(
        date_from=date_from,
        date_to=date_to,
        period=raw.get("period", default_period),
        by=raw.get("by", default_by),
        filters=filters,
    )
