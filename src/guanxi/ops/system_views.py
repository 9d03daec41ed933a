"""系统状态 and 版本信息 pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanxi.ops.changelog import changelog_html
from guanxi.ops.status import system_status

PERM = "ops.manage_system"


@login_required
@permission_required(PERM, raise_exception=True)
@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    return render(request, "ops/status.html", system_status())


@login_required
@require_GET
def version_page(request: HttpRequest) -> HttpResponse:
    """Every signed-in user may see which version runs and what changed."""
    context = {"version": settings.VERSION, "changelog": changelog_html()}
    return render(request, "ops/version.html", context)
