from django.db import migrations

from guanxi.core.migration_ops import grant_to_roles


def grant_backup_permission(apps, schema_editor):
    """Existing admin roles get the backup right the seeds give new ones."""
    grant_to_roles(apps, "ops", {"admin": ("manage_backups",)})


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_backups"), ("accounts", "0002_security")]
    operations = [migrations.RunPython(grant_backup_permission, migrations.RunPython.noop)]
