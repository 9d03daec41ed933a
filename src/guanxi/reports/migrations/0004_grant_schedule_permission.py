from django.db import migrations

from guanxi.core.migration_ops import grant_to_roles

# Sending scheduled reports to other users and to roles (anyone with reports may schedule
# one for themselves).
MANAGERS = ("admin", "data_admin", "sales_manager", "analyst")


def grant_schedule_permission(apps, schema_editor):
    """Existing default roles get the scheduling right the seeds give new ones."""
    grant_to_roles(apps, "reports", {code: ("manage_schedule",) for code in MANAGERS})


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_report_schedules"), ("accounts", "0002_security")]
    operations = [migrations.RunPython(grant_schedule_permission, migrations.RunPython.noop)]
