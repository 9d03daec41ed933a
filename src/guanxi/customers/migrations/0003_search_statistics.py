"""PostgreSQL: keep per-token frequencies for 1,000 tokens so rare searches use the index."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER INDEX customers_customer_tokens_gin ALTER COLUMN 1 SET STATISTICS 1000"
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_search_index")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
