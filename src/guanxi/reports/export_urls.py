"""Report routes: Excel/PDF downloads of every report and the dashboard."""

from django.urls import path

from guanxi.reports import export_views

urlpatterns = [
    path("<slug:key>/", export_views.export_report, name="export"),
]
