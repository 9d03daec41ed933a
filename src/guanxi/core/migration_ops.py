"""Steps data migrations share. Kept small and stable: migrations import them by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def grant_to_roles(apps: Any, app_label: str, grants: Mapping[str, tuple[str, ...]]) -> None:
    """Add permissions created since the default roles were seeded to the roles that exist
    already (role code → codenames of ``app_label``); seeds never overwrite edited roles."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config(app_label)
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("accounts", "Role")
    for code, codenames in grants.items():
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        for role in Role.objects.filter(code=code):
            role.permissions.add(*perms)


def table_columns(connection: Any, table: str) -> set[str]:
    """The column names ``table`` has now: install steps that run from early migrations
    (triggers naming a column) ask before the column exists."""
    with connection.cursor() as cur:
        return {c.name for c in connection.introspection.get_table_description(cur, table)}


def reinstall_customer_search(apps: Any, schema_editor: Any) -> None:
    """SQLite rebuilds a table to add a column with a default, which drops the customer
    full-text triggers; put them back (idempotent; on PostgreSQL the GIN index survives)."""
    from guanxi.customers import search

    search.install()
