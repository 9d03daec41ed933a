from django.db import migrations

from guanxi.core.migration_ops import grant_to_roles

ADMIN = ("undo_importbatch", "delete_importmapping")


def grant_import_permissions(apps, schema_editor):
    """Existing admin and data admin roles get the import rights the seeds give new ones."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("dataio")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    everything = tuple(
        Permission.objects.filter(content_type__app_label="dataio").values_list(
            "codename", flat=True
        )
    )
    grant_to_roles(apps, "dataio", {"admin": everything, "data_admin": ADMIN})


class Migration(migrations.Migration):
    dependencies = [("dataio", "0001_initial"), ("accounts", "0002_security")]
    operations = [migrations.RunPython(grant_import_permissions, migrations.RunPython.noop)]
