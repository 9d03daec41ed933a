"""Import files read as tables of text: CSV (UTF-8 with or without BOM, GBK/GB18030) and
XLSX, checked by content and bounded before a row is read.

The file type comes from the bytes, not the name: an XLSX is a zip holding an Excel workbook;
a CSV is text that decodes. Bounds (settings): file size, columns, data rows and, for an XLSX,
its unpacked size (a zip bomb is small on disk). CSV rows stream, so a million-row file
costs no more memory than a short one; XLSX sheets are read by calamine (7x openpyxl).

Cells come back as text the way a person saw them: whole numbers without ".0" (phone
numbers typed as numbers), dates as YYYY-MM-DD, formula cells as their computed values,
merged cells repeated over their whole range, blank rows skipped.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

SAMPLE_BYTES = 64 * 1024
MAX_RATIO = 200  # unpacked/packed size of one XLSX member beyond which it is a bomb
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BINARY_MAGICS = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"MZ", b"\x7fELF", b"\x1f\x8b")

MSG_TOO_BIG = _("文件超过 %(mb)s MB 的上限")
MSG_TOO_MANY_ROWS = _("数据行超过 %(max)s 行的上限，请拆分文件后分批导入")
MSG_TOO_MANY_COLUMNS = _("列数超过 %(max)s 列的上限")
MSG_UNPACKED = _("Excel 文件解压后过大（超过 %(mb)s MB），已拒绝")
MSG_NOT_TABLE = _("文件内容不是 CSV 或 Excel (.xlsx) 表格")
MSG_OLD_EXCEL = _("不支持旧版 Excel (.xls) 或加密的工作簿，请另存为 .xlsx 或 CSV 后再导入")
MSG_EMPTY = _("文件中没有数据")
MSG_ENCODING = _("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
MSG_BAD_XLSX = _("Excel 文件已损坏或无法读取")


class UploadRejected(Exception):
    """A file refused before any row is imported; ``message`` is shown to the user."""

    def __init__(self, code: str, message: Any) -> None:
        self.code = code
        self.message = message
        super().__init__(str(message))


@dataclass(frozen=True)
class TableInfo:
    kind: str  # "csv" | "xlsx"
    encoding: str  # CSV: "utf-8-sig" | "utf-8" | "gb18030" | "utf-16"; XLSX: ""
    sheet_name: str  # XLSX: the first visible sheet with data
    header_row: int  # 1-based row number of the header (the first non-blank row)
    headers: list[str]
    size: int
    delimiter: str = ","


def _limit(name: str) -> int:
    return int(getattr(settings, name))


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _headers(cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    headers = [c.strip() or str(_("列%(n)s") % {"n": i + 1}) for i, c in enumerate(cells)]
    if len(headers) > _limit("GUANXI_IMPORT_MAX_COLUMNS"):
        raise UploadRejected(
            "too_many_columns", MSG_TOO_MANY_COLUMNS % {"max": _limit("GUANXI_IMPORT_MAX_COLUMNS")}
        )
    return headers


# --- sniffing -----------------------------------------------------------------------------
def inspect_table(path: str | os.PathLike[str]) -> TableInfo:
    """Type, encoding, sheet and header of ``path``; UploadRejected when it is no table or
    breaks a bound."""
    path = Path(path)
    size = path.stat().st_size
    if size > _limit("GUANXI_IMPORT_MAX_BYTES"):
        raise UploadRejected(
            "too_big", MSG_TOO_BIG % {"mb": _limit("GUANXI_IMPORT_MAX_BYTES") // (1024 * 1024)}
        )
    if size == 0:
        raise UploadRejected("empty", MSG_EMPTY)
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _inspect_xlsx(path, size)
    if head.startswith(OLE_MAGIC):
        raise UploadRejected("old_excel", MSG_OLD_EXCEL)
    if head.startswith(BINARY_MAGICS) or b"\x00" in _nul_probe(head):
        raise UploadRejected("not_a_table", MSG_NOT_TABLE)
    return _inspect_csv(path, size, head)


def _nul_probe(head: bytes) -> bytes:
    """NUL bytes outside UTF-16 text mark a binary file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return b""
    return head


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UploadRejected("bad_encoding", MSG_ENCODING)


def _inspect_csv(path: Path, size: int, head: bytes) -> TableInfo:
    encoding = _encoding(head)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    delimiter = ","
    if lines:
        counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","
    info = TableInfo("csv", encoding, "", 0, [], size, delimiter)
    for number, cells in _csv_rows(info, path):
        if not _blank(cells):
            return TableInfo("csv", encoding, "", number, _headers(cells), size, delimiter)
    raise UploadRejected("empty", MSG_EMPTY)


def _inspect_xlsx(path: Path, size: int) -> TableInfo:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise UploadRejected("not_a_table", MSG_NOT_TABLE)
            limit = _limit("GUANXI_IMPORT_MAX_UNPACKED_BYTES")
            unpacked = sum(m.file_size for m in members)
            bomb = any(
                m.file_size > 10 * 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1)
                for m in members
            )
            if unpacked > limit or bomb:
                raise UploadRejected(
                    "unpacked_too_big", MSG_UNPACKED % {"mb": limit // (1024 * 1024)}
                )
    except zipfile.BadZipFile as exc:
        raise UploadRejected("bad_xlsx", MSG_BAD_XLSX) from exc
    sheet_name = ""
    for number, cells, name in _xlsx_rows(path, None):
        sheet_name = name
        if not _blank(cells):
            return TableInfo("xlsx", "", sheet_name, number, _headers(cells), size)
    raise UploadRejected("empty", MSG_EMPTY)


# --- rows -----------------------------------------------------------------------------------
def _csv_rows(info: TableInfo, path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with open(path, encoding=info.encoding, newline="", errors="strict") as f:
            reader = csv.reader(f, delimiter=info.delimiter)
            csv.field_size_limit(10 * 1024 * 1024)
            # Rows as a spreadsheet numbers them: a quoted cell may hold line breaks.
            yield from enumerate(reader, start=1)
    except UnicodeDecodeError as exc:
        raise UploadRejected("bad_encoding", MSG_ENCODING) from exc


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value)
    return "" if text.startswith("#") and text.rstrip("!?/0A").upper() in _ERRORS else text


_ERRORS = {"#N", "#DIV", "#VALUE", "#REF", "#NAME", "#NUM", "#NULL", "#GETTING_DATA"}


def _xlsx_rows(path: Path, sheet_name: str | None) -> Iterator[tuple[int, list[str], str]]:
    """(row number, cells, sheet) of the first visible sheet with data (or the named one),
    merged ranges filled with their top-left value."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise UploadRejected("bad_xlsx", MSG_BAD_XLSX) from exc
    try:
        if sheet_name:
            names = [sheet_name]
        else:
            names = [m.name for m in book.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
        for name in names:
            sheet = book.get_sheet_by_name(name)
            if sheet.start is None:
                continue
            yield from ((n, cells, name) for n, cells in _sheet_rows(sheet))
            return
    finally:
        book.close()


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    """Rows numbered as the spreadsheet numbers them. Columns of ``iter_rows`` begin at the
    sheet's first used column; its rows begin either at row 1 or at the first used row
    (seen both ways), told apart by the first row: the first used row is never blank."""
    top, left = sheet.start
    spans: dict[int, list[tuple[int, int, tuple[int, int]]]] = {}
    for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []:
        for r in range(r1, r2 + 1):
            spans.setdefault(r, []).append((c1, c2, (r1, c1)))
    anchors: dict[tuple[int, int], str] = {}
    cap = _limit("GUANXI_IMPORT_MAX_COLUMNS") + 1
    base: int | None = None
    for offset, raw in enumerate(sheet.iter_rows()):
        texts = [_text(v) for v in raw[:cap]]
        if base is None:
            base = 0 if (top > 0 and _blank(texts)) else top
        row = base + offset
        cells = [""] * left + texts
        blank = _blank(texts)
        for c1, c2, anchor in spans.pop(row, ()):
            if anchor[0] == row:
                anchors[anchor] = cells[c1] if c1 < len(cells) else ""
            value = anchors.get(anchor, "")
            if len(cells) <= c2:
                cells += [""] * (c2 + 1 - len(cells))
            for c in range(c1, c2 + 1):
                if not cells[c]:
                    cells[c] = value
        # A row blank but for merged fills is a blank row (skipped by the caller).
        yield row + 1, [] if blank else cells


def iter_rows(
    info: TableInfo, path: str | os.PathLike[str], *, start_after: int = 0
) -> Iterator[tuple[int, list[str]]]:
    """Data rows after the header as (row number, cells), blank rows skipped, one cell per
    header (short rows padded; non-empty extra cells kept so the engine can tell)."""
    path = Path(path)
    width = len(info.headers)
    max_rows = _limit("GUANXI_IMPORT_MAX_ROWS")
    source: Iterator[tuple[int, list[str]]]
    if info.kind == "csv":
        source = _csv_rows(info, path)
    else:
        source = ((n, cells) for n, cells, _name in _xlsx_rows(path, info.sheet_name))
    seen = 0
    for number, cells in source:
        if number <= info.header_row or _blank(cells):
            continue
        seen += 1
        if seen > max_rows:
            raise UploadRejected("too_many_rows", MSG_TOO_MANY_ROWS % {"max": max_rows})
        if number <= start_after:
            continue
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        elif len(cells) > width:
            extra = cells[width:]
            cells = cells[:width] + (extra if any(c.strip() for c in extra) else [])
        yield number, cells


def count_rows(info: TableInfo, path: str | os.PathLike[str]) -> int:
    """Non-blank data rows (the total of a progress bar); raises past the row bound."""
    return sum(1 for _ in iter_rows(info, path))


def sample_rows(info: TableInfo, path: str | os.PathLike[str], count: int = 3) -> list[list[str]]:
    """The first ``count`` data rows, for the mapping page."""
    rows: list[list[str]] = []
    for _number, cells in iter_rows(info, path):
        rows.append(cells)
        if len(rows) >= count:
            break
    return rows


__all__ = [
    "TableInfo",
    "UploadRejected",
    "count_rows",
    "inspect_table",
    "iter_rows",
    "sample_rows",
]
