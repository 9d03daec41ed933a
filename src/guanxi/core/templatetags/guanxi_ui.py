"""Small presentation helpers shared by the page templates (no queries, no business rules)."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from guanxi.core.money import money_text

register = template.Library()

# Bootstrap colour per customer status: grey = not yet engaged, green = doing business.
STATUS_BADGES = {
    "potential": "text-bg-info",
    "not_cooperating": "text-bg-secondary",
    "cooperating": "text-bg-success",
    "lost": "text-bg-danger",
}
REVIEW_BADGES = {
    "pending": "text-bg-warning",
    "approved": "text-bg-success",
    "rejected": "text-bg-danger",
}
ALERT_CLASSES = {"error": "danger", "debug": "secondary"}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-light")


@register.filter
def review_badge(status: str) -> str:
    return REVIEW_BADGES.get(status, "text-bg-light")


@register.filter
def alert_class(message_tags: str) -> str:
    """Django message level → Bootstrap alert colour ("error" is "danger" there)."""
    tag = (message_tags or "info").split()[-1]
    return ALERT_CLASSES.get(tag, tag)


# Error codes and "YYYY-MM-DD HH:MM" times in messages must not wrap at their "-" or space.
_UNBREAKABLE = re.compile(r"ERR-\d{3}|\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?")


@register.filter
def keep_tokens(text: Any) -> SafeString:
    """Escape a message and keep its error codes and times on one line (narrow alerts)."""
    escaped = str(conditional_escape(text))
    # Safe: the text is escaped above; only our own span is added around plain tokens.
    return mark_safe(
        _UNBREAKABLE.sub(lambda m: f'<span class="text-nowrap">{m.group(0)}</span>', escaped)
    )


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ labels|get_item:code }}``: dictionary lookups the template language lacks."""
    if not mapping:
        return ""
    return mapping.get(key, "")


@register.inclusion_tag("includes/sort_header.html", takes_context=True)
def sort_header(context: Any, field: str, label: Any) -> dict[str, Any]:
    """A column header that sorts by ``field`` and toggles asc/desc on the next click.

    The cursor is dropped: a cursor belongs to one ordering.
    """
    request = context["request"]
    current = context.get("ordering", "")
    next_ordering = f"-{field}" if current == field else field
    params: QueryDict = request.GET.copy()
    params.pop("cursor", None)
    params["ordering"] = next_ordering
    arrow = "▲" if current == field else ("▼" if current == f"-{field}" else "")
    title = _("点击按此列排序")
    return {
        "url": f"{request.path}?{params.urlencode()}",
        "label": label,
        "arrow": arrow,
        "title": title,
        "target": context.get("table_target", ""),
    }


@register.simple_tag(takes_context=True)
def page_url(context: Any, cursor: str) -> str:
    """The current list URL at another cursor (filters and ordering kept)."""
    request = context["request"]
    params: QueryDict = request.GET.copy()
    params["cursor"] = cursor
    return f"{request.path}?{params.urlencode()}"


@register.filter
def safe_color(value: str) -> str:
    """Only #rgb / #rrggbb colours reach a style attribute (tag colours are user input)."""
    value = (value or "").strip()
    return value if re.fullmatch(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?", value) else "#6c757d"


@register.filter
def bs_widget(field: Any) -> str:
    """Render a bound field's widget with Bootstrap's ``is-invalid`` when it has errors."""
    attrs = dict(field.field.widget.attrs)
    if field.errors:
        attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
        attrs["aria-describedby"] = f"{field.auto_id}_errors"
    return field.as_widget(attrs=attrs)


@register.filter
def money(value: Any) -> str:
    """Yuan with thousands separators and two decimals (see ``core.money``)."""
    return money_text(value)
