from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_tally_triggers(using: str = "default", **_: Any) -> None:
    """After every migrate: SQLite drops a table's triggers when a migration rebuilds the
    table, so the tally triggers are put back (idempotent) whenever their tables exist."""
    from django.db import connections

    from guanxi.reports import tally_admin

    connection = connections[using]
    if "reports_customertally" in connection.introspection.table_names():
        tally_admin.install()


class ReportsConfig(AppConfig):
    name = "guanxi.reports"
    label = "reports"
    verbose_name = "数据统计报表"

    def ready(self) -> None:
        post_migrate.connect(_reinstall_tally_triggers, sender=self)
