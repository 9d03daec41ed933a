from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = "客户信息管理"

    def ready(self) -> None:
        # Registers what approved/rejected customer requests do with the approval engine.
        from guanxi.core.custom_field_services import register_search_reindexer
        from guanxi.customers import approvals  # noqa: F401
        from guanxi.customers.services import reindex_custom_search

        register_search_reindexer("customer", reindex_custom_search)
