from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = "客户信息管理"

    def ready(self) -> None:
        # Registers what approved/rejected customer requests do with the approval engine.
        from guanxi.core.custom_field_services import register_search_reindexer
        from guanxi.customers import approvals, follow_ups  # noqa: F401  (merge handlers)
        from guanxi.customers.services import reindex_custom_search

        register_search_reindexer("customer", reindex_custom_search)
        _connect_tag_rules(self)


def _connect_tag_rules(config: AppConfig) -> None:
    """Rule-based tags follow data changes; the two default rules are seeded after migrate."""
    from django.db.models.signals import post_migrate

    from guanxi.customers.signals import customer_data_changed
    from guanxi.customers.tag_rules import on_customer_data_changed

    customer_data_changed.connect(on_customer_data_changed, dispatch_uid="guanxi-tag-rules")
    post_migrate.connect(_seed_tag_rules, sender=config, dispatch_uid="guanxi-tag-rule-seed")


def _seed_tag_rules(sender, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from guanxi.customers.tag_rule_services import ensure_seed_rules

    ensure_seed_rules()
