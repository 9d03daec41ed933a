"""CHANGELOG.md as the 版本信息 page shows it: headings and bullet lists, escaped.

The file is read from the source checkout (next to ``pyproject.toml``) or from
``GUANXI_CHANGELOG``; an installed package without it shows the version alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CODE = re.compile(r"`([^`]+)`")


def changelog_path() -> Path:
    configured = getattr(settings, "GUANXI_CHANGELOG", "")
    return Path(configured) if configured else settings.BASE_DIR.parent.parent / "CHANGELOG.md"


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", escape(text))


def render_changelog(text: str) -> SafeString:
    """Markdown headings (#, ##, ###), "- " bullets with indented continuation lines, and
    paragraphs, rendered to HTML with every character of the source escaped."""
    html: list[str] = []
    item: list[str] = []
    in_list = False

    def flush_item() -> None:
        if item:
            html.append(f"<li>{_inline(' '.join(item))}</li>")
            item.clear()

    def close_list() -> None:
        nonlocal in_list
        flush_item()
        if in_list:
            html.append("</ul>")
            in_list = False

    for line in text.splitlines():
        stripped = line.strip()
        heading = re.match(r"^(#{1,3})\s+(.*)$", stripped)
        if heading:
            close_list()
            level = len(heading.group(1)) + 1  # the page's own title is the h1
            html.append(
                f"<h{level} class='h{level + 3} mt-3'>{_inline(heading.group(2))}</h{level}>"
            )
        elif stripped.startswith("- "):
            flush_item()
            if not in_list:
                html.append("<ul>")
                in_list = True
            item.append(stripped[2:])
        elif stripped and item:
            item.append(stripped)
        elif stripped:
            close_list()
            html.append(f"<p>{_inline(stripped)}</p>")
        else:
            flush_item()
    close_list()
    return mark_safe("\n".join(html))


def changelog_html() -> SafeString | None:
    """The rendered changelog, or None when the file is not there."""
    try:
        text = changelog_path().read_text(encoding="utf-8")
    except OSError:
        return None
    return render_changelog(text)
