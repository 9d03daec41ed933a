"""Drill-down URLs: the list that shows exactly the records behind a number.

A bucket's ``filter`` (from the selectors) is merged over the report's own filters, so a bar
of the status chart on a page filtered by 广东省 opens the 广东省 customers of that status.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.urls import reverse


def _url(name: str, base: Mapping[str, str], extra: Mapping[str, str]) -> str:
    query = {k: v for k, v in {**base, **extra}.items() if v not in (None, "")}
    return reverse(name) + ("?" + urlencode(query) if query else "")


def customer_list_url(base: Mapping[str, str], extra: Mapping[str, str] | None = None) -> str:
    """The customer list (customers:list) with ``extra`` over ``base``."""
    return _url("customers:list", base, extra or {})


def follow_up_list_url(base: Mapping[str, str], extra: Mapping[str, str] | None = None) -> str:
    """The follow-up list of the reports (reports:follow_ups) with ``extra`` over ``base``."""
    return _url("reports:follow_ups", base, extra or {})


def report_url(key: str, base: Mapping[str, str], extra: Mapping[str, str] | None = None) -> str:
    """Another view of a report page (the region page's province drill-down)."""
    query = {k: v for k, v in {**base, **(extra or {})}.items() if v not in (None, "")}
    return reverse(f"reports:{key}") + ("?" + urlencode(query) if query else "")
