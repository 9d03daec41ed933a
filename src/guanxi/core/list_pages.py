"""What every keyset list page does the same way: open the page a cursor points at (a
bookmark can outlive its cursor), and answer htmx with only the table it asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from guanxi.core.pagination import BadCursor, Page

MSG_BAD_CURSOR = _("分页参数已失效，已返回第一页")


def page_or_first(request: HttpRequest, fetch: Callable[..., Page], **kwargs: Any) -> Page:
    """``fetch(cursor=?cursor, **kwargs)``; a stale or forged cursor gives the first page and
    a warning instead of an error page."""
    try:
        return fetch(cursor=request.GET.get("cursor"), **kwargs)
    except BadCursor:
        messages.warning(request, MSG_BAD_CURSOR)
        return fetch(**kwargs)


def wants_table_only(request: HttpRequest, target: str) -> bool:
    """htmx swapping just the list's table (a history restore needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx and htmx.target == target and not htmx.history_restore_request)


def render_list(
    request: HttpRequest,
    context: dict[str, Any],
    *,
    target: str,
    table_template: str,
    page_template: str,
    page_extras: Callable[[], dict[str, Any]] | None = None,
) -> HttpResponse:
    """The table alone for htmx, else the whole page (with ``page_extras()``, the filter form
    and the like, built only then). ``is_partial`` tells the table which one it is in."""
    partial = wants_table_only(request, target)
    context["is_partial"] = partial
    if not partial and page_extras is not None:
        context.update(page_extras())
    response = render(request, table_template if partial else page_template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
