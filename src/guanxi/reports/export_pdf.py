"""A report as a PDF: title and filters, each chart drawn (reportlab.graphics), each table with
its totals row, and "第 p 页 / 共 n 页" on every page.

A report holds aggregates (tens or hundreds of rows), so platypus lays it out whole, unlike the
list exports' row-streaming writer (``dataio.pdf_table``), whose CJK font this reuses: the
TrueType font (``GUANXI_PDF_FONT``) is embedded, subset to the characters used, so Chinese
renders on a machine without it. A map is drawn as a bar chart of its regions; a heat map as a
shaded grid.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from guanxi.dataio.pdf_table import FONT, register_font
from guanxi.reports.export_charts import chart_drawing
from guanxi.reports.export_files import cell
from guanxi.reports.results import ReportResult, Table

MARGIN = 36.0
HEADER_FILL = (0.90, 0.92, 0.95)
TOTALS_FILL = (0.96, 0.96, 0.96)


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=20, spaceAfter=6),
        "meta": ParagraphStyle("meta", parent=base, fontSize=9, leading=12, textColor="#555555"),
        "heading": ParagraphStyle(
            "heading",
            parent=base,
            fontSize=11.5,
            leading=15,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "empty": ParagraphStyle("empty", parent=base, textColor="#777777"),
    }


def _text(value: Any) -> str:
    from xml.sax.saxutils import escape

    return escape(str(cell(value)))


def _table(table: Table, styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    flow: list[Any] = [Paragraph(_text(table.title), styles["heading"])]
    if not table.rows:
        return [*flow, Paragraph(_("没有数据"), styles["empty"])]
    para = styles["cell"]
    data = [[Paragraph(_text(c), para) for c in table.columns]]
    data += [[Paragraph(_text(v), para) for v in row] for row in table.rows]
    if table.totals:
        data.append([Paragraph(_text(v), para) for v in table.totals])
    n = max(len(r) for r in data)
    first = min(width * 0.4, max(width / n, 120.0)) if n > 1 else width
    widths = [first] + [(width - first) / (n - 1)] * (n - 1) if n > 1 else [width]
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(*HEADER_FILL)),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.Color(0.8, 0.8, 0.8)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if table.totals:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.Color(*TOTALS_FILL)))
    pdf_table = PdfTable(data, colWidths=widths, repeatRows=1)
    pdf_table.setStyle(TableStyle(style))
    return [*flow, pdf_table, Spacer(1, 6)]


def _numbered_canvas(title: str) -> type:
    """A canvas that holds its pages until the end, then stamps "第 p 页 / 共 n 页"."""
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            width, _height = self._pagesize
            self.setFont(FONT, 7.5)
            self.setFillGray(0.4)
            self.drawString(MARGIN, MARGIN / 2, title)
            text = _("第 %(page)s 页 / 共 %(pages)s 页") % {
                "page": self._pageNumber,
                "pages": total,
            }
            self.drawRightString(width - MARGIN, MARGIN / 2, text)

    return NumberedCanvas


def render_pdf(result: ReportResult, header: list[tuple[str, str]]) -> bytes:
    """The report laid out on A4 portrait pages; ``header`` is the label/value lines under
    the title (filters, generated time and person)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

    register_font()
    styles = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=result.title,
        creator="Guanxi",
    )
    width = A4[0] - 2 * MARGIN
    story: list[Any] = [Paragraph(_text(result.title), styles["title"])]
    for label, value in header[1:]:
        story.append(Paragraph(f"{_text(label)}：{_text(value)}", styles["meta"]))
    story.append(Spacer(1, 8))
    for chart in result.charts:
        story.append(
            KeepTogether(
                [Paragraph(_text(chart.title), styles["heading"]), chart_drawing(chart, width)]
            )
        )
    for table in result.tables:
        story.extend(_table(table, styles, width))
    if not result.charts and not result.tables:
        story.append(Paragraph(_("没有数据"), styles["empty"]))
    doc.build(story, canvasmaker=_numbered_canvas(result.title))
    return out.getvalue()
