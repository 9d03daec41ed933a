"""Keeping CustomerNameKey in step with name cores (every path that sets a name calls this)."""

from __future__ import annotations

from collections.abc import Iterable

from guanxi.customers.models import CustomerNameKey
from guanxi.customers.name_match import deletion_keys


def key_rows(pairs: Iterable[tuple[int, str]]) -> list[CustomerNameKey]:
    return [
        CustomerNameKey(customer_id=pk, key=key)
        for pk, core in pairs
        for key in deletion_keys(core)
    ]


def sync_name_keys(pairs: Iterable[tuple[int, str]], *, fresh: bool = False) -> None:
    """Replace the keys of each (customer id, name core); ``fresh`` skips the delete for rows
    just inserted."""
    pairs = list(pairs)
    if not fresh:
        CustomerNameKey.objects.filter(customer_id__in=[pk for pk, _ in pairs]).delete()
    CustomerNameKey.objects.bulk_create(key_rows(pairs), batch_size=2000)
