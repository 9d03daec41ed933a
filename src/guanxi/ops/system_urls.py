"""系统参数, 系统状态 and 版本信息 pages (included by ops.urls under the "ops" namespace)."""

from django.urls import path

from guanxi.ops import parameter_views, system_views

urlpatterns = [
    path("parameters/", parameter_views.parameters_page, name="parameters"),
    path("parameters/logo/", parameter_views.logo_upload, name="logo_upload"),
    path("logo/", parameter_views.logo_file, name="logo"),
    path("status/", system_views.status_page, name="status"),
    path("version/", system_views.version_page, name="version"),
]
