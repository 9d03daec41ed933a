"""数据统计报表 routes: dashboard and standard reports, pivot, exports, scheduled reports."""

from django.urls import include, path

app_name = "reports"
urlpatterns = [
    path("", include("guanxi.reports.page_urls")),
    path("pivot/", include("guanxi.reports.pivot_urls")),
    path("export/", include("guanxi.reports.export_urls")),
    path("schedules/", include("guanxi.reports.schedule_urls")),
]
