"""Report routes: the standard report pages and the follow-up list they drill down to.

The dashboard itself is the site's home page (``home`` in guanxi/urls.py).
"""

from django.urls import URLPattern, path

from guanxi.reports import follow_up_views, page_views

urlpatterns: list[URLPattern] = [
    *(
        path(f"{key}/", page_views.report_page, {"key": key}, name=key)
        for key in ("distribution", "status", "region", "growth", "activity", "usage")
    ),
    path("follow-ups/", follow_up_views.follow_up_list, name="follow_ups"),
]
