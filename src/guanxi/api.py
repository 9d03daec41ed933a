"""The API v1 mount point: each app contributes its urlpatterns; OpenAPI and docs here."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from guanxi.core.api_errors import error_body


def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown API paths answer in the API's error format, never an HTML page."""
    return JsonResponse(error_body("ERR-005"), status=404)


urlpatterns = [
    path("", include("guanxi.accounts.api")),
    path("", include("guanxi.accounts.org_api")),
    path("", include("guanxi.customers.merge_api")),  # before customers/<pk>
    path("", include("guanxi.customers.privacy_api")),  # before customers/<pk>
    path("", include("guanxi.customers.contact_api")),
    path("", include("guanxi.customers.followup_api")),
    path("", include("guanxi.customers.tag_api")),
    path("", include("guanxi.customers.api")),
    path("", include("guanxi.customers.recycle_api")),
    path("", include("guanxi.audit.api")),
    path("", include("guanxi.core.custom_field_api")),
    path("", include("guanxi.workflow.api")),
    path("", include("guanxi.workflow.task_api")),
    path("", include("guanxi.workflow.approval_api")),
    path("", include("guanxi.reports.api")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="api-docs"),
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
