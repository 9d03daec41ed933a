"""HTML routes, the API under /api/v1, and health."""

from django.urls import include, path

from guanxi.core.health import healthz
from guanxi.reports import page_views as report_pages

urlpatterns = [
    path("", report_pages.dashboard, name="home"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("guanxi.api")),
    path("", include("guanxi.accounts.urls")),
    path("captcha/", include("captcha.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("settings/org/", include("guanxi.accounts.admin_urls")),
    path("settings/audit/", include("guanxi.audit.urls")),
    path("notifications/", include("guanxi.workflow.urls")),
    path("approvals/", include("guanxi.workflow.approval_urls")),
    path("tasks/", include("guanxi.workflow.task_urls")),
    path("settings/", include("guanxi.core.urls")),
    path("export/", include("guanxi.dataio.urls")),
    path("import/", include("guanxi.dataio.import_urls")),
    path("reports/", include("guanxi.reports.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("settings/system/", include("guanxi.ops.urls")),
    path("", include("guanxi.ops.root_urls")),
]

handler404 = "guanxi.core.views.page_not_found"
handler500 = "guanxi.core.views.server_error"
