"""``{% export_menu "contacts" copy_from="#contact-filter" %}``: the 导出 dropdown of a list
page, shown only to users who may export that list. It posts the list's current filters
(as rendered, and as they are on screen when clicked: ``data-copy-from``) in the chosen
format to /export/<list>/."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.dataio.exporters import EXPORTERS, FORMAT_LABELS

register = template.Library()


@register.inclusion_tag("dataio/_export_menu.html", takes_context=True)
def export_menu(
    context: Any,
    kind: str,
    copy_from: str = "",
    label: Any = None,
    testid: str = "export-form",
    **fixed: Any,
) -> dict[str, Any]:
    request = context["request"]
    exporter = EXPORTERS[kind]
    allowed = all(request.user.has_perm(p) for p in exporter.perms)
    carried = [
        (key, value)
        for key, values in request.GET.lists()
        for value in values
        if value and key not in ("cursor", "format") and key not in fixed
    ]
    return {
        "allowed": allowed,
        "action": reverse("dataio:export", args=[kind]),
        "copy_from": copy_from,
        "carried": carried,
        "fixed": [(k, v) for k, v in fixed.items() if v not in (None, "")],
        "formats": list(FORMAT_LABELS.items()),
        "label": label or _("导出"),
        "testid": testid,
        "csrf_token": context.get("csrf_token"),
    }
