from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = "客户信息管理"

    def ready(self) -> None:
        # Registers what approved/rejected customer requests do with the approval engine.
        from guanxi.customers import approvals  # noqa: F401
