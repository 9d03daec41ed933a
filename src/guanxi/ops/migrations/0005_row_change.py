"""The change log that incremental backups read (see guanxi.ops.backup_changelog)."""

from django.db import migrations, models


def add_transaction_column(apps, schema_editor):
    """PostgreSQL: which transaction wrote each entry, so a backup can tell the entries its
    snapshot saw from those of transactions still open then (ids are not commit order)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE ops_row_change ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id()"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0004_seed_jobs_and_permission"),
    ]

    operations = [
        migrations.CreateModel(
            name="RowChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table_name", models.CharField(max_length=100)),
                ("row_key", models.TextField(null=True)),
            ],
            options={
                "db_table": "ops_row_change",
                "default_permissions": (),
            },
        ),
        migrations.RunPython(add_transaction_column, migrations.RunPython.noop),
    ]
