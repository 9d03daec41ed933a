"""/import/... pages: upload, mapping, batch progress and result, reports, templates."""

from django.urls import path

from guanxi.dataio import import_batch_views, import_views

app_name = "imports"
urlpatterns = [
    path("", import_views.import_home, name="home"),
    path("templates/<slug:object_type>.xlsx", import_views.import_template, name="template"),
    path("mappings/<int:pk>/delete/", import_views.import_mapping_remove, name="mapping_delete"),
    path("<int:pk>/", import_batch_views.import_batch, name="batch"),
    path("<int:pk>/mapping/", import_views.import_mapping, name="mapping"),
    path("<int:pk>/progress/", import_batch_views.import_progress, name="progress"),
    path("<int:pk>/start/", import_batch_views.import_start, name="start"),
    path("<int:pk>/resume/", import_batch_views.import_resume, name="resume"),
    path("<int:pk>/restart/", import_batch_views.import_restart, name="restart"),
    path("<int:pk>/undo/", import_batch_views.import_undo, name="undo"),
    path("<int:pk>/errors.xlsx", import_batch_views.import_error_report, name="errors"),
]
