from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = "客户信息管理"
