"""Pages of the customers app for contacts (mounted into customers.urls)."""

from django.urls import URLPattern, path

from guanxi.customers import contact_views

urlpatterns: list[URLPattern] = [
    path("contacts/", contact_views.contact_list, name="contact_list"),
    path(
        "<int:customer_pk>/contacts/section/",
        contact_views.contact_section,
        name="contact_section",
    ),
    path("<int:customer_pk>/contacts/new/", contact_views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", contact_views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", contact_views.contact_delete, name="contact_delete"),
    path(
        "contacts/<int:pk>/primary/", contact_views.contact_set_primary, name="contact_set_primary"
    ),
]
