"""Liveness: the process answers and the database responds."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        database = {
            "status": "ok",
            "vendor": connection.vendor,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        code = 200
    except Exception as exc:  # the point is to report it, not to raise
        database = {"status": "error", "vendor": connection.vendor, "error": type(exc).__name__}
        code = 503
    return JsonResponse(
        {
            "status": "ok" if code == 200 else "error",
            "version": settings.VERSION,
            "database": database,
        },
        status=code,
    )
