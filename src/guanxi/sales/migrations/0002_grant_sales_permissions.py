from django.db import migrations

from guanxi.core.migration_ops import grant_to_roles

EVERYTHING = tuple(
    f"{verb}_{model}" for model in ("contract", "order") for verb in ("view", "add", "change", "delete")
)


def grant_sales_permissions(apps, schema_editor):
    """Roles seeded before the sales app get the rights the seeds give new ones."""
    from guanxi.sales.grants import ROLE_GRANTS, add_role_scopes

    grant_to_roles(apps, "sales", {"admin": EVERYTHING, **ROLE_GRANTS})
    Role = apps.get_model("accounts", "Role")
    RoleScope = apps.get_model("accounts", "RoleScope")
    for role in Role.objects.filter(code__in=["finance"]):
        add_role_scopes(RoleScope, role, role.code)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("accounts", "0002_security")]
    operations = [migrations.RunPython(grant_sales_permissions, migrations.RunPython.noop)]
