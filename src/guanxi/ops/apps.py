from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "guanxi.ops"
    label = "ops"
    verbose_name = "系统运维"
