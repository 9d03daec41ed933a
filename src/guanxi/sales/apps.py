from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = "销售"

    def ready(self) -> None:
        # Hooks into the customer life cycle: merge moves, delete refusals, churn dates.
        from guanxi.sales import customer_hooks  # noqa: F401
