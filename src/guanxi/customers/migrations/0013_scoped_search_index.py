"""PostgreSQL: the search index also holds each row's owner and department, so a search
within a user's scope is answered by the index alone (see customers.search)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from guanxi.customers import search

    search.rebuild_postgres_index()


class Migration(migrations.Migration):
    dependencies = [("customers", "0012_churn_proposal")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
