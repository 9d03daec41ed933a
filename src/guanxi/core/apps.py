from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"
    verbose_name = "核心"
