"""Report routes: the pivot page (数据透视)."""

from django.urls import URLPattern, path

from guanxi.reports import pivot_views

urlpatterns: list[URLPattern] = [path("", pivot_views.pivot_page, name="pivot")]
