"""Report routes: 定时报表 pages."""

from django.urls import path

from guanxi.reports import schedule_views

urlpatterns = [
    path("", schedule_views.schedule_list, name="schedules"),
    path("new/", schedule_views.schedule_create, name="schedule_create"),
    path("<int:pk>/edit/", schedule_views.schedule_edit, name="schedule_edit"),
    path("<int:pk>/delete/", schedule_views.schedule_delete, name="schedule_delete"),
    path("<int:pk>/run/", schedule_views.schedule_run, name="schedule_run"),
]
