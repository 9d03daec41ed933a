"""系统设置 pages (/settings/...)."""

from django.urls import path

from guanxi.core import dictionary_views

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
]
