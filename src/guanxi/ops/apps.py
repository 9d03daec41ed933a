from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_change_log(using: str = "default", **_: Any) -> None:
    """After every migrate: new tables get change-log triggers, and SQLite tables rebuilt
    by a migration (which loses its triggers) get them back (see backup_changelog)."""
    from django.db import connections

    from guanxi.ops import backup_changelog
    from guanxi.ops.backup_service import table_specs

    connection = connections[using]
    if using == "default" and "ops_row_change" in connection.introspection.table_names():
        backup_changelog.install(connection, table_specs())


class OpsConfig(AppConfig):
    name = "guanxi.ops"
    label = "ops"
    verbose_name = "系统运维"

    def ready(self) -> None:
        post_migrate.connect(_install_change_log, sender=self, dispatch_uid="guanxi-change-log")
