"""A table as a printable PDF: landscape A4, title, time of export and row count on the first
page, the header row repeated on every page, page numbers ("第 3 / 12 页") in the footer.

Drawn straight on the reportlab canvas, row by row: platypus tables lay out the whole table
before drawing, which costs seconds and memory at a few thousand rows; here a row is
measured, wrapped and drawn, then forgotten. Chinese needs a TrueType CJK font embedded in
the file (subset to the characters used): ``GUANXI_PDF_FONT``, WenQuanYi Micro Hei by default.
The row count and page total are only known at the end, so they are drawn as PDF forms
that are filled in after the last row.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from itertools import chain, islice
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

FONT = "GuanxiCJK"
PAGE_MARGIN = 28.0
BODY_SIZE = 7.5
LEADING = 9.5
PAD = 2.5
MAX_LINES = 3  # a longer cell is cut, its last line ending in "…"
ELLIPSIS = "…"
MIN_COLUMN, MAX_COLUMN = 24.0, 220.0  # natural column widths (points) before scaling
SAMPLE_ROWS = 200  # rows measured to size the columns
HEADER_FILL = (0.90, 0.92, 0.95)
RULE_GREY = 0.8

_registered: dict[str, str] = {}


def register_font() -> str:
    """Register the CJK TrueType font once per process; the font's PostScript name."""
    path = getattr(settings, "GUANXI_PDF_FONT", "")
    if _registered.get("path") != path:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        font = TTFont(FONT, path, subfontIndex=0)
        pdfmetrics.registerFont(font)
        _registered.update(path=path, name=font.face.name.decode("latin-1", "replace"))
    return _registered["name"]


class _Wrapper:
    """Splits cell text into lines that fit a column, measuring each character once."""

    def __init__(self, size: float) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.size = size
        self.measure = lambda text: stringWidth(text, FONT, size)
        self.widths: dict[str, float] = {}

    def lines(self, text: str, width: float, max_lines: int = MAX_LINES) -> list[str]:
        """``text`` in at most ``max_lines`` lines of ``width``, the last ending in "…" when
        some was left out. Only what can show is measured (a 5,000-character note is cut
        to the few hundred characters that could fit first)."""
        if "\n" not in text and self.measure(text) <= width:
            return [text]
        limit = int(max_lines * width / (self.size * 0.2)) + 1  # no glyph is narrower
        cut = len(text) > limit
        out: list[str] = []
        for paragraph in text[:limit].replace("\r", "").split("\n"):
            out.extend(self._wrap(paragraph, width))
            if len(out) > max_lines:
                break
        if len(out) > max_lines or cut:
            out = out[:max_lines]
            out[-1] = self._fit(out[-1] + ELLIPSIS, width)
        return out or [""]

    def _char(self, ch: str) -> float:
        w = self.widths.get(ch)
        if w is None:
            w = self.widths[ch] = self.measure(ch)
        return w

    def _wrap(self, text: str, width: float) -> list[str]:
        lines, line, used = [], [], 0.0
        for ch in text:
            w = self._char(ch)
            if line and used + w > width:
                lines.append("".join(line))
                line, used = [], 0.0
            line.append(ch)
            used += w
        lines.append("".join(line))
        return lines

    def _fit(self, text: str, width: float) -> str:
        """Shorten ``text`` (which ends in "…") until it fits."""
        while len(text) > 1 and self.measure(text) > width:
            text = text[:-2] + ELLIPSIS
        return text


class _Pages:
    """The canvas with the page furniture: header row on each page, footer, page count."""

    def __init__(self, out: IO[bytes], headers: Sequence[str], widths: Sequence[float], title: str):
        from reportlab.lib.pagesizes import A4, landscape
        from reportlab.pdfgen import canvas

        self.width, self.height = landscape(A4)
        self.canvas = canvas.Canvas(out, pagesize=(self.width, self.height), pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setCreator("Guanxi")
        self.headers, self.widths, self.title = headers, widths, title
        self.wrap = _Wrapper(BODY_SIZE)
        self.page = 0
        self.y = 0.0
        self.count_at = (PAGE_MARGIN, 0.0)

    def start_page(self) -> None:
        if self.page:
            self.canvas.showPage()
        self.page += 1
        self.y = self.height - PAGE_MARGIN
        if self.page == 1:
            self._title_block()
        self._footer()
        self._header_row()

    def _title_block(self) -> None:
        c = self.canvas
        c.setFont(FONT, 14)
        c.drawString(PAGE_MARGIN, self.y - 14, self.title)
        c.setFont(FONT, 8.5)
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        generated = _("导出时间：%(time)s") % {"time": stamp} + "    "
        c.drawString(PAGE_MARGIN, self.y - 28, generated)
        self.count_at = (PAGE_MARGIN + self.wrap.measure(generated) * 8.5 / BODY_SIZE, self.y - 28)
        c.doForm("row_count")  # filled in at the end: "共 N 条"
        self.y -= 38

    def _footer(self) -> None:
        c = self.canvas
        c.setFont(FONT, 7.5)
        c.setFillGray(0.4)
        c.drawString(PAGE_MARGIN, PAGE_MARGIN / 2, self.title)
        c.setFillGray(0)
        c.doForm(f"page_{self.page}")  # "第 p 页 / 共 N 页", filled in at the end

    def _header_row(self) -> None:
        cells = [
            self.wrap.lines(str(h), w - 2 * PAD, 2)
            for h, w in zip(self.headers, self.widths, strict=True)
        ]
        height = max(len(lines) for lines in cells) * LEADING + 2 * PAD
        c = self.canvas
        c.setFillColorRGB(*HEADER_FILL)
        c.rect(PAGE_MARGIN, self.y - height, sum(self.widths), height, stroke=0, fill=1)
        c.setFillGray(0)
        self._draw_cells(cells, height)

    def row(self, cells: Sequence[Any]) -> None:
        wrapped = [
            self.wrap.lines("" if v is None else str(v), w - 2 * PAD)
            for v, w in zip(cells, self.widths, strict=False)
        ]
        height = max(len(lines) for lines in wrapped) * LEADING + 2 * PAD
        if self.y - height < PAGE_MARGIN + 10:
            self.start_page()
        self._draw_cells(wrapped, height)

    def _draw_cells(self, cells: list[list[str]], height: float) -> None:
        c = self.canvas
        text = c.beginText()
        text.setFont(FONT, BODY_SIZE)
        x = PAGE_MARGIN
        for lines, w in zip(cells, self.widths, strict=True):
            baseline = self.y - PAD - BODY_SIZE
            for line in lines:
                text.setTextOrigin(x + PAD, baseline)
                text.textOut(line)
                baseline -= LEADING
            x += w
        c.drawText(text)
        self.y -= height
        c.setStrokeGray(RULE_GREY)
        c.setLineWidth(0.4)
        c.line(PAGE_MARGIN, self.y, PAGE_MARGIN + sum(self.widths), self.y)

    def empty_note(self) -> None:
        self.canvas.setFont(FONT, 9)
        self.canvas.drawString(PAGE_MARGIN + PAD, self.y - 14, _("没有符合条件的记录"))

    def finish(self, count: int) -> None:
        c = self.canvas
        c.beginForm("row_count")
        c.setFont(FONT, 8.5)
        c.drawString(*self.count_at, _("共 %(n)s 条") % {"n": count})
        c.endForm()
        for page in range(1, self.page + 1):
            c.beginForm(f"page_{page}")
            c.setFont(FONT, 7.5)
            c.setFillGray(0.4)
            text = _("第 %(page)s 页 / 共 %(pages)s 页") % {"page": page, "pages": self.page}
            c.drawRightString(self.width - PAGE_MARGIN, PAGE_MARGIN / 2, text)
            c.endForm()
        c.save()


def column_widths(
    headers: Sequence[str], sample: Sequence[Sequence[Any]], total: float
) -> list[float]:
    """Column widths in points that fill the page: each column as wide as most of its
    sampled cells (the 90th percentile, so one long note does not take the page), within
    bounds, then all scaled together; what is still too long wraps."""
    wrap = _Wrapper(BODY_SIZE)
    widths = []
    for col, header in enumerate(headers):
        cells = sorted(
            wrap.measure(str(row[col])) for row in sample if col < len(row) and row[col] is not None
        )
        natural = cells[int(len(cells) * 0.9)] if cells else 0.0
        head = wrap.measure(str(header)) / 2 if len(str(header)) > 4 else wrap.measure(str(header))
        widths.append(min(MAX_COLUMN, max(MIN_COLUMN, natural, head)) + 2 * PAD)
    scale = total / (sum(widths) or 1)
    return [w * scale for w in widths]


def write_pdf_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "", **_: Any
) -> tuple[IO[bytes], int]:
    """Write ``rows`` under ``headers`` as a PDF table; the file (rewound) and row count.
    Columns are sized on the first rows, which are held until then (the rest stream)."""
    from reportlab.lib.pagesizes import A4, landscape

    register_font()
    rows = iter(rows)
    sample = list(islice(rows, SAMPLE_ROWS))
    headers = [str(h) for h in headers]
    widths = column_widths(headers, sample, landscape(A4)[0] - 2 * PAGE_MARGIN)
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    pages = _Pages(out, headers, widths, title)
    pages.start_page()
    count = 0
    for row in chain(sample, rows):
        pages.row(row)
        count += 1
    if not count:
        pages.empty_note()
    pages.finish(count)
    out.seek(0)
    return out, count
