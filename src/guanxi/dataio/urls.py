"""/export/... downloads and 我的导出."""

from django.urls import path

from guanxi.dataio import views

app_name = "dataio"
urlpatterns = [
    path("customers/", views.export_list, {"kind": "customers"}, name="export_customers"),
    path("jobs/", views.export_job_list, name="export_jobs"),
    path("jobs/<int:pk>/download/", views.export_job_download, name="export_job_download"),
    path("<slug:kind>/", views.export_list, name="export"),
]
