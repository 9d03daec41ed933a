"""Probes and metrics mounted at the site root (/readyz, /metrics)."""

from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache

from guanxi.ops.metrics import metrics_view
from guanxi.ops.probe_views import readyz

urlpatterns: list[URLPattern] = [
    path("readyz", readyz, name="readyz"),
    path("metrics", never_cache(metrics_view), name="metrics"),
]
