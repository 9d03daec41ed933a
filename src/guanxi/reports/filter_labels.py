"""The filters a report was built with, as (label, value) pairs people read: 客户状态 = 合作客户,
负责人 = 张三 (file headers and page summaries show these, never raw ids or codes)."""

from __future__ import annotations

from collections.abc import Mapping

from guanxi.customers.filters import BLANK, CustomerFilter
from guanxi.customers.follow_up_selectors import FollowUpFilter
from guanxi.reports.labels import BLANK_LABEL, labels_for

# Filter parameter -> the label dimension that names its values.
_VALUE_DIMENSION = {
    "status": "status",
    "customer_type": "customer_type",
    "category": "category",
    "industry": "industry",
    "source": "source",
    "owner_id": "owner",
    "department_id": "department",
    "method": "method",
}


def describe(filters: Mapping[str, str], *, follow_ups: bool = False) -> list[tuple[str, str]]:
    """Readable (label, value) pairs, in the order given; unknown parameters keep their name."""
    known = (FollowUpFilter if follow_ups else CustomerFilter).base_filters
    out: list[tuple[str, str]] = []
    for name, value in filters.items():
        label = str(known[name].label) if name in known and known[name].label else name
        if value == BLANK:
            shown = str(BLANK_LABEL)
        elif name in _VALUE_DIMENSION:
            shown = labels_for(_VALUE_DIMENSION[name], [value]).get(value, value)
        else:
            shown = value
        out.append((label, shown))
    return out
