"""The notification centre: the bell in the top bar, the list, marking read.

Thin: reads through workflow.selectors (always the caller's own notifications), writes
through workflow.services. Another user's notification id is a 404, like any unknown id.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.errors import NotFound
from guanxi.core.list_pages import page_or_first, render_list
from guanxi.workflow import selectors, services
from guanxi.workflow.models import Notification

PAGE_SIZE = 20
LIST_TARGET = "notification-list"
MSG_ALL_READ = _("已将 %(n)s 条通知标记为已读")
LEVEL_BADGES = {"info": "text-bg-info", "warning": "text-bg-warning", "alert": "text-bg-danger"}


def _bell_context(user: Any) -> dict[str, Any]:
    count = selectors.unread_count(user, cap=selectors.BELL_CAP)
    text = f"{selectors.BELL_CAP}+" if count > selectors.BELL_CAP else str(count)
    return {"bell_count": count, "bell_text": text, "bell_loaded": True}


@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell with its unread count, loaded by htmx after the page (no query in the shell).

    Anonymous callers get 204, so a page whose session just ended never swaps a login form
    into the top bar.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "workflow/_bell.html", _bell_context(request.user))


def _show(request: HttpRequest) -> str:
    return "all" if request.GET.get("show") == "all" else "unread"


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """Unread (default) or all, newest first, keyset pages."""
    show = _show(request)
    page = page_or_first(
        request,
        selectors.notification_list,
        user=request.user,
        unread_only=show == "unread",
        limit=PAGE_SIZE,
    )
    context = {
        "page": page,
        "show": show,
        "badges": LEVEL_BADGES,
        "table_target": f"#{LIST_TARGET}",
        **_bell_context(request.user),
    }
    return render_list(
        request,
        context,
        target=LIST_TARGET,
        table_template="workflow/_list.html",
        page_template="workflow/list.html",
    )


def _mark_read(request: HttpRequest, pk: int) -> Notification:
    """The caller's notification, now read; anyone else's id is a 404 like an unknown one."""
    try:
        return services.notification_mark_read(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; htmx gets the row back (and the bell, out of band)."""
    notification = _mark_read(request, pk)
    if getattr(request, "htmx", None):
        context = {"n": notification, "badges": LEVEL_BADGES, "oob_bell": True}
        context.update(_bell_context(request.user))
        return render(request, "workflow/_row.html", context)
    return redirect(_back(request))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    changed = services.notification_mark_all_read(actor=request.user)
    messages.success(request, MSG_ALL_READ % {"n": changed})
    return redirect(_back(request))


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way (only to our own site)."""
    notification = _mark_read(request, pk)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("workflow:notifications") + "?show=all")


def _back(request: HttpRequest) -> str:
    """Back to the list view the form was on (only our own list URL)."""
    base = reverse("workflow:notifications")
    show = request.POST.get("show")
    return f"{base}?show=all" if show == "all" else base
