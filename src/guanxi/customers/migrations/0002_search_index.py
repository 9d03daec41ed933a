from django.db import migrations


def install(apps, schema_editor):
    from guanxi.customers import search

    search.install()


def uninstall(apps, schema_editor):
    from guanxi.customers import search

    search.uninstall()


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
