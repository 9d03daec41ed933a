"""Sales pages (/sales/...)."""

from django.urls import path

from guanxi.sales import views

app_name = "sales"
urlpatterns = [
    path(
        "customers/<int:customer_pk>/business/",
        views.customer_business_section,
        name="customer_business",
    ),
]
