"""Pages of the customers app for segments (mounted into customers.urls)."""

from django.urls import URLPattern, path

from guanxi.customers import segment_views

urlpatterns: list[URLPattern] = [
    path("segments/", segment_views.segment_list, name="segment_list"),
    path("segments/new/", segment_views.segment_form, name="segment_create"),
    path("segments/<int:pk>/edit/", segment_views.segment_form, name="segment_edit"),
    path("segments/<int:pk>/delete/", segment_views.segment_delete, name="segment_delete"),
    path("segments/<int:pk>/count/", segment_views.segment_count, name="segment_count"),
]
