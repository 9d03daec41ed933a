"""系统设置 pages (/settings/...)."""

from django.urls import path

from guanxi.core import custom_field_views, dictionary_views

app_name = "core"
urlpatterns = [
    path("dictionaries/", dictionary_views.dictionary_list, name="dictionaries"),
    path(
        "dictionaries/<slug:type_code>/new/",
        dictionary_views.dictionary_item_new,
        name="dictionary_item_create",
    ),
    path(
        "dictionaries/items/<int:pk>/edit/",
        dictionary_views.dictionary_item_edit,
        name="dictionary_item_edit",
    ),
    path(
        "dictionaries/items/<int:pk>/toggle/",
        dictionary_views.dictionary_item_toggle,
        name="dictionary_item_toggle",
    ),
    path("custom-fields/", custom_field_views.custom_field_list, name="custom_fields"),
    path("custom-fields/new/", custom_field_views.custom_field_new, name="custom_field_create"),
    path(
        "custom-fields/<int:pk>/edit/",
        custom_field_views.custom_field_edit,
        name="custom_field_edit",
    ),
    path(
        "custom-fields/<int:pk>/toggle/",
        custom_field_views.custom_field_toggle,
        name="custom_field_toggle",
    ),
]
