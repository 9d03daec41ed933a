"""/readyz (readiness, JSON) at the site root; /metrics lives in ``ops.metrics``."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from guanxi.ops.readiness import readiness


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    ready, checks = readiness()
    body = {"status": "ok" if ready else "error", "version": settings.VERSION, "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)
