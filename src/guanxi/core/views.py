"""Error pages in the shell's look (Chinese first)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # The database may be what failed: the page shell must not read it (see shell()).
    request.gx_without_database = True  # type: ignore[attr-defined]
    return render(request, "errors/500.html", status=500)
