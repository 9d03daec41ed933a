"""Pages of the customers app for follow-ups, interactions and the timeline (mounted into
customers.urls)."""

from django.urls import URLPattern, path

from guanxi.customers import follow_up_views

urlpatterns: list[URLPattern] = [
    path("follow-ups/due/", follow_up_views.follow_up_due, name="follow_up_due"),
    path("<int:pk>/follow-ups/new/", follow_up_views.follow_up_create, name="follow_up_create"),
    path(
        "<int:pk>/interactions/new/",
        follow_up_views.follow_up_interaction_create,
        name="follow_up_interaction_create",
    ),
    path("follow-ups/<int:pk>/edit/", follow_up_views.follow_up_edit, name="follow_up_edit"),
    path("<int:pk>/timeline/", follow_up_views.customer_timeline, name="timeline"),
]
