"""Tables written to files (CSV, XLSX, JSON, XML, PDF) one row at a time, so memory stays flat
however many rows an export holds. Each writer returns the file rewound to its start and the
number of rows written; the caller streams it back and closes it.

Spreadsheet safety: CSV cells a spreadsheet would run as a formula get a leading ``'``
(OWASP CSV injection); XLSX text cells are written as inline strings, which are never
formulas. JSON and XML carry values exactly as stored: they are data for programs, not
sheets, and escaping would corrupt them (XML only drops the control characters XML 1.0
cannot hold at all, see ``xml_text``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "xml": "application/xml; charset=utf-8",
    "pdf": "application/pdf",
}
Cell = str | int | float | Decimal | None
# Cells the XLSX writer takes as they are (numbers stay numbers); anything else becomes text.
_NATIVE = frozenset({str, int, float, Decimal, type(None)})
_NUMBERS = frozenset({int, float, Decimal})
# A cell (after the first) of a joined text column starting with what a spreadsheet runs as
# a formula; a pattern that starts with a literal is searched for ten times faster.
_CSV_DANGER = re.compile("\n[=+\\-@\t\r]")
# What XML 1.0 cannot hold even escaped: C0 controls but tab/LF/CR, lone surrogates, FFFE/FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_NAME = re.compile(r"[A-Za-z_][-.\w]*", re.ASCII)


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


def _temporary() -> IO[bytes]:
    # Handed to the response (or the job's file), which closes it.
    return tempfile.TemporaryFile()


def _csv_cell(cell: Any) -> Any:
    """A cell that is not plain safe text: numbers and None as they are, the rest as text
    with a leading ``'`` when a spreadsheet would run it as a formula."""
    if cell is None or cell.__class__ in _NUMBERS:
        return cell
    return csv_safe(str(cell))


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]], **_: Any) -> tuple:
    """UTF-8 with BOM, so Excel opens Chinese text correctly. Text cells a spreadsheet would
    run as a formula get a leading ``'``; numbers are written as numbers (never formulas).
    Rows are formatted a thousand at a time and encoded once per batch."""
    out = _temporary()
    out.write(codecs.BOM_UTF8)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    count = 0
    first = "".join(FORMULA_PREFIXES)
    safe = _csv_cell
    batch: list[list[Any]] = []

    def flush() -> None:
        writer.writerows(batch)
        out.write(text.getvalue().encode())
        text.seek(0)
        text.truncate()

    for row in rows:
        batch.append(
            [c if c.__class__ is str and (not c or c[0] not in first) else safe(c) for c in row]
        )
        if len(batch) == 1000:
            flush()
            count += len(batch)
            batch = []
    flush()
    count += len(batch)
    out.seek(0)
    return out, count


def _safe_column(column: Sequence[Any], first: str) -> Sequence[Any]:
    """One CSV column with formula-like text neutralised. A column of text is checked in one
    pass (joined, one regular-expression search, both in C); only a column with a hit, or
    with numbers or blanks in it, is gone through cell by cell."""
    try:
        joined = "\n".join(column)
    except TypeError:  # numbers or None among the values
        joined = None
    if (
        joined is not None
        and not joined.startswith(FORMULA_PREFIXES)
        and not _CSV_DANGER.search(joined)
    ):
        return column
    return [
        c if c.__class__ is str and (not c or c[0] not in first) else _csv_cell(c) for c in column
    ]


def write_csv_columns(headers: Sequence[str], chunks: Iterable[list[Sequence[Any]]]) -> tuple:
    """``write_csv`` for rows that come a chunk at a time as columns (same file, faster)."""
    out = _temporary()
    out.write(codecs.BOM_UTF8)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    first = "".join(FORMULA_PREFIXES)
    count = 0
    for columns in chunks:
        safe = [_safe_column(column, first) for column in columns]
        writer.writerows(zip(*safe, strict=True))
        count += len(columns[0]) if columns else 0
        out.write(text.getvalue().encode())
        text.seek(0)
        text.truncate()
    out.write(text.getvalue().encode())
    out.seek(0)
    return out, count


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Sequence[int] = ()
    native: bool = False  # every cell already str, int, float, Decimal or None


def unique_headers(headers: Sequence[str]) -> list[str]:
    """Column titles made unique (``备注``, ``备注 (2)``): a custom field may share a title
    with a base column, and the XLSX writer keys cells by title."""
    seen: dict[str, int] = {}
    result = []
    for title in headers:
        title = str(title)
        seen[title] = seen.get(title, 0) + 1
        result.append(title if seen[title] == 1 else f"{title} ({seen[title]})")
    return result


def _records(sheet: Sheet, headers: list[str], counter: list[int]) -> Iterator:
    """Rows as the dicts the XLSX writer takes; an empty table still gets its header row
    (one row of blanks, which the writer leaves out)."""
    native = _NATIVE
    count = 0
    if sheet.native:
        for row in sheet.rows:
            count += 1
            yield dict(zip(headers, row, strict=False))
    else:
        for row in sheet.rows:
            count += 1
            yield dict(
                zip(headers, [c if type(c) in native else str(c) for c in row], strict=False)
            )
    counter.append(count)
    if not count:
        yield dict.fromkeys(headers)


def write_xlsx_sheets(sheets: Iterable[Sheet]) -> tuple[IO[bytes], int]:
    """One worksheet per sheet, written in order (bold frozen header, column widths; numbers
    stay numbers, everything else is an inline string, never a formula); the count is the
    rows of all sheets. Rust-backed: about ten times the speed of xlsxwriter."""
    from rustpy_xlsxwriter import write_worksheets

    out = _temporary()
    counters: list[list[int]] = []
    entries, widths = [], {}
    for sheet in sheets:
        title = _sheet_title(sheet.title, [name for name, _records_ in entries])
        headers = unique_headers(sheet.headers)
        counter: list[int] = []
        counters.append(counter)
        entries.append((title, _records(sheet, headers, counter)))
        if sheet.widths:
            widths[title] = [float(w) for w in sheet.widths]
    write_worksheets(
        entries,
        out,
        freeze_panes={"general": {"row": 1, "col": 0}},
        bold_headers=True,
        column_widths=widths or None,
    )
    out.seek(0)
    return out, sum(sum(c) for c in counters)


def _sheet_title(title: str, taken: list[str]) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of ``[]:*?/\\``, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(title)).strip("'")[:31] or "Sheet"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]}_{n}"
    return name


def write_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    sheet: str = "Sheet1",
    widths: Sequence[int] = (),
    native: bool = False,
    **_: Any,
) -> tuple:
    """One sheet of rows (``native``: the caller vouches every cell is already a str, int,
    float, Decimal or None, so none is checked)."""
    return write_xlsx_sheets([Sheet(sheet, headers, rows, widths, native)])


def write_json(records: Iterable[dict[str, Any]], **_: Any) -> tuple:
    """A JSON array of objects, written record by record."""
    out = _temporary()
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


def xml_text(value: Any) -> str:
    """A value as XML character data: escaped, and the characters XML 1.0 forbids (NUL and
    other C0 controls, lone surrogates) replaced by U+FFFD so the file always parses."""
    text = value if isinstance(value, str) else str(value)
    return escape(_XML_FORBIDDEN.sub("\ufffd", text))


def xml_name(key: Any) -> str:
    """An element name for ``key``: the key itself when it is a plain XML name, else ``_``."""
    key = str(key)
    return key if _XML_NAME.fullmatch(key) and not key.lower().startswith("xml") else "_"


def _xml_element(name: str, value: Any, item: str, parts: list[str]) -> None:
    if value is None or value == "" or value == [] or value == {}:
        parts.append(f"<{name}/>")
    elif isinstance(value, Mapping):
        parts.append(f"<{name}>")
        for key, child in value.items():
            tag = xml_name(key)
            if tag == "_":
                parts.append(f"<field key={quoteattr(_XML_FORBIDDEN.sub(chr(0xFFFD), str(key)))}>")
                parts.append(f"{xml_text(child) if child is not None else ''}</field>")
            else:
                _xml_element(tag, child, item, parts)
        parts.append(f"</{name}>")
    elif isinstance(value, list | tuple):
        parts.append(f"<{name}>")
        for child in value:
            _xml_element(item, child, item, parts)
        parts.append(f"</{name}>")
    elif isinstance(value, bool):
        parts.append(f"<{name}>{'true' if value else 'false'}</{name}>")
    else:
        parts.append(f"<{name}>{xml_text(value)}</{name}>")


def write_xml(
    records: Iterable[dict[str, Any]], *, root: str = "records", record: str = "record", **_: Any
) -> tuple:
    """UTF-8 XML: ``<root>`` holding one ``<record>`` per record, each key a child element
    (lists as repeated ``<item>``, objects as nested elements, None as an empty element)."""
    out = _temporary()
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n'.encode())
    count = 0
    for values in records:
        parts: list[str] = []
        _xml_element(record, values, "item", parts)
        parts.append("\n")
        out.write("".join(parts).encode())
        count += 1
    out.write(f"</{root}>\n".encode())
    out.seek(0)
    return out, count


def write_pdf(headers: Sequence[str], rows: Iterable[Sequence[Cell]], **options: Any) -> tuple:
    """A printable table: landscape A4, Chinese text in an embedded font (dataio.pdf_table)."""
    from guanxi.dataio.pdf_table import write_pdf_table

    return write_pdf_table(headers, rows, **options)
