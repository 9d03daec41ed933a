"""/export/... downloads."""

from django.urls import path

from guanxi.dataio import views

app_name = "dataio"
urlpatterns = [path("customers/", views.export_customers, name="export_customers")]
