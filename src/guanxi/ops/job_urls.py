"""定时任务 pages (included by ops.urls under the "ops" namespace)."""

from django.urls import path

from guanxi.ops import job_views

urlpatterns = [
    path("jobs/", job_views.job_list, name="jobs"),
    path("jobs/<int:pk>/", job_views.job_edit, name="job_edit"),
    path("jobs/<int:pk>/run/", job_views.job_run_now, name="job_run_now"),
]
