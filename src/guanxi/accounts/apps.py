from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "guanxi.accounts"
    label = "accounts"
    verbose_name = "组织与账号"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from guanxi.accounts import schema  # noqa: F401  (registers the OpenAPI auth scheme)

        # Seeding is infrastructure: missing default roles are created, edited ones are kept.
        # It runs once per migrate, after the last app's permissions exist.
        post_migrate.connect(_seed_after_last_app, dispatch_uid="guanxi-default-roles")


def _seed_after_last_app(sender, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from django.apps import apps

    from guanxi.accounts.seeds import ensure_default_roles
    from guanxi.core.seeds import ensure_dictionaries
    from guanxi.workflow.seeds import ensure_default_flows

    # post_migrate is sent only for apps with a models module.
    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if sender is with_models[-1]:
        ensure_dictionaries()
        ensure_default_roles()
        ensure_default_flows()
