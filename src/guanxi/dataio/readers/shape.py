"""Rows shaped the same way whatever the file: stripped text, headers named, widths fitted."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .errors import limit, too_many_columns


def header_texts(cells: list[str]) -> list[str]:
    """Trailing blank header cells dropped (an editor's stray formatting), blank ones named
    "列<N>" so every column can be mapped; refused past the column bound."""
    cells = [c.strip() for c in cells]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > limit("GUANXI_IMPORT_MAX_COLUMNS"):
        raise too_many_columns()
    return [c or str(_("列%(n)s") % {"n": i}) for i, c in enumerate(cells, start=1)]


def fit(cells: list[str], width: int) -> list[str]:
    """One cell per header: short rows padded with ""; cells past the headers kept (up to
    the last non-empty one) so the engine can report data without a column."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if len(cells) > width:
        last = len(cells)
        while last > width and not cells[last - 1]:
            last -= 1
        if last > limit("GUANXI_IMPORT_MAX_COLUMNS"):
            raise too_many_columns()
        return cells[:last]
    return cells


TITLE_ROWS = 5  # a title, a subtitle, a date line... before the header row


def header_index(rows: list[list[str]]) -> int:
    """Which of the first non-blank rows (stripped cells) is the header: the first one,
    unless it and those after it hold a single cell each (a title such as 客户清单（2024）,
    often merged across the table) up to a row of several cells within TITLE_ROWS."""
    for index, cells in enumerate(rows[:TITLE_ROWS]):
        filled = sum(1 for c in cells if c)
        if filled != 1:
            return index if filled > 1 else 0
    return 0
