"""系统设置 → 审计日志 (/settings/audit/...)."""

from django.urls import path

from guanxi.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="list"),
    path("<int:pk>/", views.audit_detail, name="detail"),
    path("export/", views.audit_export, name="export"),
    path("verify/", views.audit_verify, name="verify"),
]
