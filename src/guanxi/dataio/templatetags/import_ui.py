"""Presentation helpers of the import pages (no queries, no rules)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# Grey = waiting for the user, blue = working, green = done, red = needs attention.
STATUS_BADGES = {
    "uploaded": "text-bg-secondary",
    "validating": "text-bg-info",
    "validated": "text-bg-primary",
    "queued": "text-bg-info",
    "running": "text-bg-info",
    "interrupted": "text-bg-warning",
    "done": "text-bg-success",
    "failed": "text-bg-danger",
    "undone": "text-bg-light border",
}


@register.filter
def import_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-light")


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as people read a wait: "约 3 分 20 秒", "约 2 小时 5 分"."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return _("约 %(s)s 秒") % {"s": seconds}
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return _("约 %(m)s 分 %(s)s 秒") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("约 %(h)s 小时 %(m)s 分") % {"h": hours, "m": minutes}
