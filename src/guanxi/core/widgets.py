"""Form widgets shared by pages that list many choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class FastSelect(forms.Select):
    """A single select rendered in Python, not through Django's per-option templates.

    Django renders every ``<option>`` through a template include (about a third of a
    millisecond each); filter bars that list every owner and department render hundreds of
    options per request. The HTML is the same as ``forms.Select``'s; option groups are kept.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = {"name": name, **self.build_attrs(self.attrs, attrs)}
        wanted = set(self.format_value(value))
        state = {"chosen": False}

        def options(choices: Any) -> SafeString:
            rows = []
            for option_value, label in choices:
                key = "" if option_value is None else str(option_value)
                chosen = key in wanted and not state["chosen"]
                state["chosen"] = state["chosen"] or chosen
                rows.append((key, " selected" if chosen else "", label))
            return format_html_join("", '<option value="{}"{}>{}</option>', rows)

        parts = []
        for group, label in self.choices:
            if isinstance(label, list | tuple):
                parts.append(
                    format_html('<optgroup label="{}">{}</optgroup>', group, options(label))
                )
            else:
                parts.append(options([(group, label)]))
        return format_html(
            "<select{}>{}</select>",
            _attributes(final),
            format_html_join("", "{}", ((p,) for p in parts)),
        )


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """Attributes in their given order, as Django's ``attrs.html`` writes them."""
    pairs = [
        (key, "" if value is True else format_html('="{}"', value))
        for key, value in attrs.items()
        if value is not False and value is not None
    ]
    return format_html_join("", " {}{}", pairs)
