"""Tables written to files (CSV, XLSX, JSON) one row at a time, so memory stays flat however
many rows an export holds. Each writer returns the file rewound to its start and the number
of rows written; the caller streams it back and closes it.

Spreadsheet safety: CSV cells a spreadsheet would run as a formula get a leading ``'``
(OWASP CSV injection); XLSX text cells are written as strings, which are never formulas.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
Cell = str | int | float | Decimal | None


@dataclass
class ExportFile:
    """A written export on its way to the user: the file (rewound), its name and type."""

    file: IO[bytes]
    filename: str
    content_type: str
    rows: int
    truncated: bool = False


def export_file(
    file: IO[bytes], rows: int, *, prefix: str, fmt: str, truncated: bool = False
) -> ExportFile:
    """Name the file ``<prefix>-<local time>.<fmt>`` with the format's content type."""
    from django.utils import timezone

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return ExportFile(
        file=file,
        filename=f"{prefix}-{stamp}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
        rows=rows,
        truncated=truncated,
    )


Writer = Callable[..., tuple[IO[bytes], int]]


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formula injection: a leading ``'`` makes the cell text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _text(cell: Cell) -> str:
    return "" if cell is None else str(cell)


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]], **_: Any) -> tuple:
    """UTF-8 with BOM, so Excel opens Chinese text correctly."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow([csv_safe(_text(cell)) for cell in row])
        count += 1
    text.flush()
    text.detach()
    out.seek(0)
    return out, count


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Sequence[int] = ()


def write_xlsx_sheets(sheets: Iterable[Sheet]) -> tuple[IO[bytes], int]:
    """One worksheet per sheet, written in order (bold frozen header; numbers stay numbers,
    everything else is a string); the count is the rows of all sheets."""
    import xlsxwriter

    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    bold = book.add_format({"bold": True})
    total = 0
    for sheet in sheets:
        page = book.add_worksheet(sheet.title[:31])
        for col, width in enumerate(sheet.widths):
            page.set_column(col, col, width)
        page.freeze_panes(1, 0)
        for col, title in enumerate(sheet.headers):
            page.write_string(0, col, title, bold)
        count = 0
        for count, row in enumerate(sheet.rows, start=1):
            for col, cell in enumerate(row):
                if isinstance(cell, (int, float, Decimal)) and not isinstance(cell, bool):
                    page.write_number(count, col, float(cell))
                elif cell not in (None, ""):
                    page.write_string(count, col, str(cell))
        total += count
    book.close()
    out.seek(0)
    return out, total


def write_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    sheet: str = "Sheet1",
    widths: Sequence[int] = (),
    **_: Any,
) -> tuple:
    """One sheet of rows."""
    return write_xlsx_sheets([Sheet(sheet, headers, rows, widths)])


def write_json(records: Iterable[dict[str, Any]], **_: Any) -> tuple:
    """A JSON array of objects, written record by record."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    out.write(b"[")
    count = 0
    for count, record in enumerate(records, start=1):
        if count > 1:
            out.write(b",")
        out.write(b"\n")
        out.write(json.dumps(record, ensure_ascii=False, default=str).encode())
    out.write(b"\n]\n")
    out.seek(0)
    return out, count
