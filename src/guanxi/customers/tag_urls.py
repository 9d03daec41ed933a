"""Pages of the customers app for tags and tag rules (mounted into customers.urls)."""

from django.urls import URLPattern, path

from guanxi.customers import tag_rule_views, tag_views

urlpatterns: list[URLPattern] = [
    path("tags/", tag_views.tag_list, name="tag_list"),
    path("tags/new/", tag_views.tag_form, name="tag_create"),
    path("tags/<int:pk>/edit/", tag_views.tag_form, name="tag_edit"),
    path("tags/<int:pk>/delete/", tag_views.tag_delete, name="tag_delete"),
    path("tags/apply/", tag_views.tag_bulk_apply, name="tag_bulk_apply"),
    path("tag-rules/", tag_rule_views.rule_list, name="tag_rule_list"),
    path("tag-rules/new/", tag_rule_views.rule_form, name="tag_rule_create"),
    path("tag-rules/<int:pk>/edit/", tag_rule_views.rule_form, name="tag_rule_edit"),
    path("tag-rules/<int:pk>/run/", tag_rule_views.rule_run, name="tag_rule_run"),
    path("tag-rules/<int:pk>/toggle/", tag_rule_views.rule_toggle, name="tag_rule_toggle"),
]
