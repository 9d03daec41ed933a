"""A built report as a file: Excel (every table, and the numbers behind every chart) or PDF.

Both read one ``ReportResult``, the object the page renders, so a file never disagrees with
the screen. The workbook is written by the list exports' XLSX writer (``dataio.tables``):
text cells are inline strings, never formulas, so a customer named ``=HYPERLINK(...)`` stays
text (formula injection). The PDF lives in ``reports.export_pdf``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.dataio import tables
from guanxi.reports.results import Chart, ReportResult, Table

CONTENT_TYPES = {"xlsx": tables.CONTENT_TYPES["xlsx"], "pdf": tables.CONTENT_TYPES["pdf"]}
FORMATS = tuple(CONTENT_TYPES)


def generated_by(user: Any) -> str:
    """The name a file header shows for who asked for it."""
    if user is None:
        return ""
    name = getattr(user, "name", "") or ""
    username = getattr(user, "username", "") or ""
    return f"{name}（{username}）" if name and username and name != username else name or username


def header_lines(
    result: ReportResult, *, user: Any = None, generated_at: dt.datetime | None = None
) -> list[tuple[str, str]]:
    """Title, filters, time and person, as label/value pairs (workbook and PDF alike)."""
    moment = timezone.localtime(generated_at or timezone.now())
    lines = [(_("报表"), result.title)]
    lines += [(str(label), str(value)) for label, value in result.filters]
    lines.append((_("生成时间"), moment.strftime("%Y-%m-%d %H:%M")))
    if user is not None:
        lines.append((_("生成人"), generated_by(user)))
    return lines


def cell(value: Any) -> Any:
    """Numbers stay numbers; dates as ISO text; everything else as text."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def table_rows(table: Table) -> Iterator[list[Any]]:
    """The table's rows then its totals row (when it has one)."""
    for row in table.rows:
        yield [cell(v) for v in row]
    if table.totals:
        yield [cell(v) for v in table.totals]


def chart_columns(chart: Chart) -> list[str]:
    return [_("分类"), *[s.name for s in chart.series]]


def chart_rows(chart: Chart) -> Iterator[list[Any]]:
    """One row per category: the category, then each series' value for it."""
    for i, category in enumerate(chart.categories):
        values = [cell(s.values[i]) if i < len(s.values) else "" for s in chart.series]
        yield [cell(category), *values]


def _widths(columns: list[str], first: int = 24) -> list[int]:
    return [first, *([14] * (len(columns) - 1))]


def report_xlsx(
    result: ReportResult, *, user: Any = None, generated_at: dt.datetime | None = None
) -> bytes:
    """The report as a workbook: a 报表信息 sheet (title, filters, time, person), one sheet
    per table (with its totals row), and one sheet per chart holding its categories and
    series, so every number drawn can be checked or re-charted."""
    info = header_lines(result, user=user, generated_at=generated_at)
    sheets = [tables.Sheet(_("报表信息"), [_("项目"), _("内容")], info, [16, 60])]
    for table in result.tables:
        columns = [str(c) for c in table.columns]
        sheets.append(
            tables.Sheet(table.title or result.title, columns, table_rows(table), _widths(columns))
        )
    for n, chart in enumerate(result.charts, start=1):
        columns = chart_columns(chart)
        title = _("图表%(n)s %(title)s") % {"n": n, "title": chart.title}
        sheets.append(tables.Sheet(title, columns, chart_rows(chart), _widths(columns)))
    file, _count = tables.write_xlsx_sheets(sheets)
    with file:
        return file.read()


def report_pdf(
    result: ReportResult, *, user: Any = None, generated_at: dt.datetime | None = None
) -> bytes:
    """The report as a PDF (charts drawn, tables with totals, CJK font embedded)."""
    from guanxi.reports.export_pdf import render_pdf

    return render_pdf(result, header_lines(result, user=user, generated_at=generated_at))


def report_file(
    result: ReportResult, fmt: str, *, user: Any = None, generated_at: dt.datetime | None = None
) -> bytes:
    """``report_xlsx`` or ``report_pdf`` by format name."""
    writer = report_pdf if fmt == "pdf" else report_xlsx
    return writer(result, user=user, generated_at=generated_at)


def report_filename(result: ReportResult, fmt: str, at: dt.datetime | None = None) -> str:
    """``<报表名>-<local time>.<fmt>``: people keep several and sort them by name."""
    stamp = timezone.localtime(at or timezone.now()).strftime("%Y%m%d-%H%M")
    safe = "".join(ch for ch in result.title if ch not in '\\/:*?"<>|').strip() or result.key
    return f"{safe}-{stamp}.{fmt}"
