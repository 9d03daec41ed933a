from django.db import migrations

from guanxi.core.migration_ops import grant_to_roles

# Default roles that use the reports (API.md: admin, data admin, managers, reps, analysts ...).
REPORT_ROLES = (
    "admin",
    "data_admin",
    "sales_manager",
    "sales_rep",
    "service_rep",
    "marketing",
    "finance",
    "analyst",
)


def install_and_count(apps, schema_editor):
    """Triggers in, then the tallies counted from the rows that exist already."""
    from guanxi.reports import tally_admin

    tally_admin.rebuild()


def remove_triggers(apps, schema_editor):
    from guanxi.reports import tally_admin

    tally_admin.uninstall()


def grant_report_permission(apps, schema_editor):
    grant_to_roles(apps, "reports", {code: ("view_report",) for code in REPORT_ROLES})


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_tallies"),
        ("customers", "0011_import_batch"),
        ("accounts", "0002_security"),
    ]
    operations = [
        migrations.RunPython(install_and_count, remove_triggers),
        migrations.RunPython(grant_report_permission, migrations.RunPython.noop),
    ]
