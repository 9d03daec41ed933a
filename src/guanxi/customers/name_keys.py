"""Keeping CustomerNameKey in step with name cores (every path that sets a name calls this)."""

from __future__ import annotations

from collections.abc import Iterable

from guanxi.core.bulk_sql import insert_many
from guanxi.customers.models import CustomerNameKey
from guanxi.customers.name_match import deletion_keys


def sync_name_keys(pairs: Iterable[tuple[int, str]], *, fresh: bool = False) -> None:
    """Replace the keys of each (customer id, name core); ``fresh`` skips the delete for rows
    just inserted."""
    pairs = list(pairs)
    if not fresh:
        CustomerNameKey.objects.filter(customer_id__in=[pk for pk, _ in pairs]).delete()
    insert_name_keys((pk, key) for pk, core in pairs for key in deletion_keys(core))


def insert_name_keys(rows: Iterable[tuple[int, str]]) -> None:
    """Insert (customer id, key) rows of customers that have none yet."""
    rows = list(rows)
    if not rows:
        return
    # Not bulk_create: an import writes ~6 keys a customer, and model instances cost more
    # than the insert itself.
    insert_many(CustomerNameKey._meta.db_table, ("customer_id", "key"), rows)
