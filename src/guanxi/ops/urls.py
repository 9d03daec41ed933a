"""系统设置 pages for operations: jobs, backups and restores, system parameters, status."""

from django.urls import URLPattern, URLResolver, include, path

from guanxi.ops import backup_urls, job_urls, system_urls

app_name = "ops"
urlpatterns: list[URLPattern | URLResolver] = [
    *job_urls.urlpatterns,
    *system_urls.urlpatterns,
    path("backups/", include(backup_urls)),
]
