"""Values the page shell (top bar, menu) needs on every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    if getattr(request, "gx_without_database", False):  # the 500 page
        return {"APP_VERSION": settings.VERSION, "APP_TITLE": settings.APP_TITLE, "APP_LOGO": False}
    # The company name and logo are system parameters (系统参数), remembered per request.
    from guanxi.ops.parameters import company_logo, company_name

    return {
        "APP_VERSION": settings.VERSION,
        "APP_TITLE": company_name(),
        "APP_LOGO": bool(company_logo()),
    }
