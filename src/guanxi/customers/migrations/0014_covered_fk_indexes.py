"""Drop single-column indexes that a composite index leading with the same column already
serves: customers' owner and department (cust_owner_idx, cust_dept_idx) and name keys'
customer (custnamekey_unique). Each was one more B-tree written for every imported row.

By hand (state and database apart): on SQLite, Django would rebuild the whole customers
table for an index change, which also drops the search and tally triggers on it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COVERED = [
    ("customers_customer_owner_id_fbb2798e", "customers_customer", "owner_id"),
    ("customers_customer_department_id_738c8343", "customers_customer", "department_id"),
    ("customers_customernamekey_customer_id_70cffcf5", "customers_customernamekey", "customer_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_security"),
        ("customers", "0013_scoped_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="customers",
                        to="accounts.department",
                        verbose_name="所属部门",
                    ),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="owned_customers",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="负责人",
                    ),
                ),
                migrations.AlterField(
                    model_name="customernamekey",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in COVERED
            ],
        ),
    ]
