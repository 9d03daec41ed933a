"""系统设置 → 组织与权限 pages (/settings/org/...)."""

from django.urls import path

from guanxi.accounts import admin_dept_views, admin_io_views, admin_role_views, admin_views

app_name = "org"
urlpatterns = [
    path("departments/", admin_dept_views.department_list, name="departments"),
    path("departments/new/", admin_dept_views.department_create, name="department_create"),
    path("departments/<int:pk>/edit/", admin_dept_views.department_edit, name="department_edit"),
    path(
        "departments/<int:pk>/delete/",
        admin_dept_views.department_delete,
        name="department_delete",
    ),
    path("users/", admin_views.user_list, name="users"),
    path("users/new/", admin_views.user_create, name="user_create"),
    path("users/import/", admin_io_views.user_import, name="user_import"),
    path("users/import/template.csv", admin_io_views.import_template, name="import_template"),
    path("users/export/", admin_io_views.user_export, name="user_export"),
    path("users/<int:pk>/", admin_views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", admin_views.user_edit, name="user_edit"),
    path("users/<int:pk>/lock/", admin_views.user_lock, name="user_lock"),
    path("users/<int:pk>/disable/", admin_views.user_disable, name="user_disable"),
    path(
        "users/<int:pk>/reset-password/",
        admin_views.user_reset_password,
        name="user_reset_password",
    ),
    path("users/<int:pk>/<slug:action>/", admin_views.user_action, name="user_action"),
    path("roles/", admin_role_views.role_list, name="roles"),
    path("roles/new/", admin_role_views.role_create, name="role_create"),
    path("roles/<int:pk>/", admin_role_views.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", admin_role_views.role_delete, name="role_delete"),
]
