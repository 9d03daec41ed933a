"""Report charts drawn for print with reportlab.graphics: bar, line, pie; a map as a bar chart
of its regions (largest first); a heat map (categories across, one row per series) as a shaded
grid. Every label uses the embedded CJK font."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from guanxi.dataio.pdf_table import FONT
from guanxi.reports.results import Chart

HEIGHT = 210.0
PALETTE = (
    (0.33, 0.44, 0.78),
    (0.57, 0.80, 0.46),
    (0.98, 0.78, 0.35),
    (0.93, 0.40, 0.40),
    (0.45, 0.75, 0.87),
    (0.23, 0.64, 0.45),
    (0.99, 0.52, 0.32),
    (0.60, 0.38, 0.71),
)
MAX_LABEL = 10  # characters of a category label under a bar; longer ones end in "…"


def _color(i: int) -> Any:
    from reportlab.lib.colors import Color

    return Color(*PALETTE[i % len(PALETTE)])


def _short(label: Any) -> str:
    text = str(label)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _numbers(values: list[Any]) -> list[float]:
    out = []
    for v in values:
        try:
            out.append(float(v or 0))
        except (TypeError, ValueError):
            out.append(0.0)
    return out


def _series(chart: Chart) -> list[list[float]]:
    n = len(chart.categories)
    return [(_numbers(s.values) + [0.0] * n)[:n] for s in chart.series] or [[0.0] * n]


def _legend(drawing: Any, chart: Chart, x: float, y: float) -> None:
    from reportlab.graphics.charts.legends import Legend

    if len(chart.series) < 2:
        return
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = FONT, 7.5
    legend.columnMaximum = 1
    legend.deltax = 70
    legend.dx = legend.dy = 7
    legend.colorNamePairs = [(_color(i), s.name) for i, s in enumerate(chart.series)]
    drawing.add(legend)


def _axes(plot: Any, chart: Chart) -> None:
    for axis in (plot.categoryAxis.labels, plot.valueAxis.labels):
        axis.fontName, axis.fontSize = FONT, 7
    plot.categoryAxis.categoryNames = [_short(c) for c in chart.categories]
    if len(chart.categories) > 6:
        plot.categoryAxis.labels.angle = 35
        plot.categoryAxis.labels.boxAnchor = "ne"
        plot.categoryAxis.labels.dx = 2
    plot.valueAxis.valueMin = 0
    if not any(v for row in plot.data for v in row):
        plot.valueAxis.valueMax = 1  # all zero: an axis needs some height
    plot.valueAxis.forceZero = 1
    plot.valueAxis.visibleGrid = 1
    plot.valueAxis.gridStrokeColor = _grey()
    plot.valueAxis.gridStrokeWidth = 0.3


def _grey() -> Any:
    from reportlab.lib.colors import Color

    return Color(0.85, 0.85, 0.85)


def _bar(chart: Chart, width: float) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing

    drawing = Drawing(width, HEIGHT)
    plot = VerticalBarChart()
    plot.x, plot.y, plot.width, plot.height = 40, 55, width - 60, HEIGHT - 75
    plot.data = _series(chart)
    _axes(plot, chart)
    for i in range(len(plot.data)):
        plot.bars[i].fillColor = _color(i)
        plot.bars[i].strokeColor = None
    plot.barLabelFormat = "%d" if len(chart.categories) <= 15 else None
    plot.barLabels.fontName, plot.barLabels.fontSize = FONT, 6.5
    plot.barLabels.nudge = 6
    drawing.add(plot)
    _legend(drawing, chart, 45, HEIGHT - 4)
    return drawing


def _line(chart: Chart, width: float) -> Any:
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing

    drawing = Drawing(width, HEIGHT)
    plot = HorizontalLineChart()
    plot.x, plot.y, plot.width, plot.height = 40, 55, width - 60, HEIGHT - 75
    plot.data = _series(chart)
    _axes(plot, chart)
    for i in range(len(plot.data)):
        plot.lines[i].strokeColor = _color(i)
        plot.lines[i].strokeWidth = 1.5
    drawing.add(plot)
    _legend(drawing, chart, 45, HEIGHT - 4)
    return drawing


def _pie(chart: Chart, width: float) -> Any:
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing

    drawing = Drawing(width, HEIGHT)
    values = _series(chart)[0]
    total = sum(values)
    if not total:
        return _bar(chart, width)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 30, 15, HEIGHT - 40, HEIGHT - 40
    pie.data = values
    pie.labels = None
    pie.slices.strokeWidth = 0.5
    for i in range(len(values)):
        pie.slices[i].fillColor = _color(i)
    drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = HEIGHT + 10, HEIGHT - 20
    legend.fontName, legend.fontSize = FONT, 8
    legend.columnMaximum = 12
    legend.dx = legend.dy = 8
    legend.colorNamePairs = [
        (_color(i), f"{_short(c)}  {v:g}（{v * 100 / total:.1f}%）")
        for i, (c, v) in enumerate(zip(chart.categories, values, strict=False))
    ]
    drawing.add(legend)
    return drawing


def _map_as_bars(chart: Chart, width: float) -> Any:
    values = _series(chart)[0]
    pairs = sorted(zip(chart.categories, values, strict=False), key=lambda p: (-p[1], str(p[0])))
    pairs = pairs[:30]
    ordered = Chart(
        kind="bar",
        title=chart.title,
        categories=[p[0] for p in pairs],
        series=[type(chart.series[0])(chart.series[0].name, [p[1] for p in pairs])]
        if chart.series
        else [],
    )
    return _bar(ordered, width)


def _heatmap(chart: Chart, width: float) -> Any:
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib.colors import Color

    rows = _series(chart)
    names = [s.name for s in chart.series] or [""]
    left, top_pad, bottom = 70.0, 10.0, 45.0
    height = max(HEIGHT, bottom + top_pad + 14 * len(rows))
    drawing = Drawing(width, height)
    cols = max(1, len(chart.categories))
    cw = (width - left - 10) / cols
    ch = (height - bottom - top_pad) / max(1, len(rows))
    peak = max((v for row in rows for v in row), default=0) or 1
    for r, row in enumerate(rows):
        y = height - top_pad - (r + 1) * ch
        drawing.add(String(left - 4, y + ch / 2 - 3, _short(names[r]), fontName=FONT,
                           fontSize=7, textAnchor="end"))  # fmt: skip
        for c, value in enumerate(row):
            shade = 1 - 0.75 * value / peak
            fill = Color(shade, shade + 0.1 * (1 - shade), 1)
            drawing.add(Rect(left + c * cw, y, cw, ch, fillColor=fill, strokeColor=_grey()))
            if value and cw > 14:
                drawing.add(String(left + c * cw + cw / 2, y + ch / 2 - 3, f"{value:g}",
                                   fontName=FONT, fontSize=6, textAnchor="middle"))  # fmt: skip
    step = max(1, cols // 24)
    for c in range(0, cols, step):
        drawing.add(String(left + c * cw + cw / 2, bottom - 12, _short(chart.categories[c]),
                           fontName=FONT, fontSize=6.5, textAnchor="middle"))  # fmt: skip
    return drawing


def _empty(width: float) -> Any:
    from reportlab.graphics.shapes import Drawing, String

    drawing = Drawing(width, 30)
    drawing.add(String(4, 12, _("没有数据"), fontName=FONT, fontSize=9, fillColor=_grey_text()))
    return drawing


def _grey_text() -> Any:
    from reportlab.lib.colors import Color

    return Color(0.45, 0.45, 0.45)


def chart_drawing(chart: Chart, width: float) -> Any:
    """A reportlab Drawing of ``chart`` ``width`` points wide (a note when it has no data)."""
    if not chart.categories:
        return _empty(width)
    if chart.kind == "pie":
        return _pie(chart, width)
    if chart.kind == "line":
        return _line(chart, width)
    if chart.kind == "map":
        return _map_as_bars(chart, width)
    if chart.kind == "heatmap":
        return _heatmap(chart, width)
    return _bar(chart, width)
