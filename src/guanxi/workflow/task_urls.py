"""Task pages (/tasks/...) and 系统设置 → 提醒规则 (/tasks/rules/)."""

from django.urls import path

from guanxi.workflow import task_views

app_name = "tasks"
urlpatterns = [
    path("", task_views.task_list, name="list"),
    path("new/", task_views.task_create, name="create"),
    path("<int:pk>/complete/", task_views.task_complete, name="complete"),
    path("customer/<int:customer_id>/", task_views.customer_tasks, name="customer_block"),
    path("rules/", task_views.rule_list, name="rules"),
    path("rules/<int:pk>/", task_views.rule_update, name="rule_update"),
]
