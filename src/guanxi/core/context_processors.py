"""Values the page shell (top bar, menu) needs on every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    return {"APP_VERSION": settings.VERSION, "APP_TITLE": settings.APP_TITLE}
