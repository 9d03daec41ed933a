from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from guanxi.core.custom_fields import forget_definitions
        from guanxi.core.models import CustomField

        post_save.connect(forget_definitions, sender=CustomField, dispatch_uid="cf_memo_save")
        post_delete.connect(forget_definitions, sender=CustomField, dispatch_uid="cf_memo_del")
