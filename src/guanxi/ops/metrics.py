"""Prometheus metrics: request counts and latencies (middleware), and at scrape time the task
queue depth, job outcomes, worker heartbeat and backup age (read from the database).

Under ``guanxi serve`` with several gunicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` is set
before the application loads, so each worker writes its counters to files there and a scrape
served by any worker sums them all.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "guanxi_http_requests_total", "HTTP requests answered", ["method", "view", "status"]
)
LATENCY = Histogram(
    "guanxi_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METRICS_PATH = "/metrics"


class RequestMetricsMiddleware:
    """Counts and times every request, labelled by route name (bounded cardinality)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        method = request.method if request.method in _METHODS else "other"
        LATENCY.labels(method, view).observe(time.perf_counter() - started)
        REQUESTS.labels(method, view, str(response.status_code)).inc()
        return response


_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


class DatabaseCollector(Collector):
    """Gauges read fresh from the database and the queue at each scrape."""

    def collect(self) -> Iterator[Metric]:
        from guanxi.ops.backup_probe import backup_age_seconds
        from guanxi.ops.job_models import JobRun, ScheduledJob, WorkerHeartbeat

        now = timezone.now()
        queue = GaugeMetricFamily("guanxi_task_queue_depth", "Tasks waiting for a worker")
        queue.add_metric([], queue_depth())
        yield queue
        status = GaugeMetricFamily(
            "guanxi_job_last_status", "1 for each job's last status", labels=["job", "status"]
        )
        failures = GaugeMetricFamily(
            "guanxi_job_consecutive_failures", "Failed attempts in a row", labels=["job"]
        )
        for name, last, count in ScheduledJob.objects.values_list(
            "name", "last_status", "failures"
        ):
            status.add_metric([name, last], 1)
            failures.add_metric([name], count)
        yield status
        yield failures
        runs = GaugeMetricFamily(
            "guanxi_job_runs", "Recorded job runs by outcome", labels=["job", "status"]
        )
        from django.db.models import Count

        for row in JobRun.objects.values("job__name", "status").annotate(n=Count("id")):
            runs.add_metric([row["job__name"], row["status"]], row["n"])
        yield runs
        beat = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True)
        heartbeat = GaugeMetricFamily(
            "guanxi_worker_heartbeat_age_seconds", "Seconds since a worker last ticked (-1: none)"
        )
        heartbeat.add_metric([], (now - beat[0]).total_seconds() if beat else -1)
        yield heartbeat
        age = backup_age_seconds(now)
        backup = GaugeMetricFamily(
            "guanxi_backup_age_seconds", "Seconds since the newest backup (-1: none)"
        )
        backup.add_metric([], -1 if age is None else age)
        yield backup


def queue_depth() -> int:
    """Tasks waiting in huey's queue (-1 when the queue cannot be read)."""
    try:
        from huey.contrib.djhuey import HUEY

        return int(HUEY.pending_count())
    except Exception:  # a probe reports, it does not fail
        return -1


def render_metrics() -> bytes:
    """The exposition text: this process's (or every worker's) counters plus the gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class _ProcessCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REQUESTS.collect()
        yield from LATENCY.collect()


def allowed(request: HttpRequest) -> bool:
    """With GUANXI_METRICS_TOKEN set: a matching bearer token. Without: loopback callers."""
    token = getattr(settings, "GUANXI_METRICS_TOKEN", "")
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        return secrets.compare_digest(header.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics_view(request: HttpRequest) -> Any:
    if request.method != "GET":
        return HttpResponse(status=405)
    if not allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
