"""XLSX rows through calamine (a Rust reader, several times faster than openpyxl).

Cells become the text a person saw: whole numbers without ".0" (a phone number typed as a
number stays 13800138000), dates as YYYY-MM-DD, formula cells as the value the writing
program computed and stored, errors (#N/A) as "". A merged range's value (at its top-left
cell) is repeated over the whole range, as a vertical 客户来源 over three rows means.

python-calamine 0.9.1: ``iter_rows`` yields the blank rows above the first used row too
(so the n-th row is row n) but starts at the first used column; ``merged_cell_ranges``
gives 0-based (row, column) corners, or None when the sheet has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MSG_BAD_XLSX, MSG_EMPTY, MSG_ENCRYPTED, MSG_HEADER_ONLY, UploadRejected
from .shape import TITLE_ROWS, header_index, header_texts
from .zip_guard import check_xlsx

if TYPE_CHECKING:
    from . import TableInfo

HALF_SECOND = dt.timedelta(microseconds=500_000)


def text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is dt.datetime:
        return (value + HALF_SECOND).strftime("%Y-%m-%d %H:%M:%S")
    if kind is dt.date:
        return value.isoformat()
    if kind is dt.time:
        moment = dt.datetime.combine(dt.date(2000, 1, 1), value) + HALF_SECOND
        return moment.strftime("%H:%M:%S")
    if kind is dt.timedelta:
        seconds = round(value.total_seconds())
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return str(value).strip()


def _blank(raw: list[Any]) -> bool:
    """Blank as ``text`` would make it, without making it (count_rows, skipped rows)."""
    return all(v == "" or (type(v) is str and v.isspace()) for v in raw)


def _open(path: Path) -> Any:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        return CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise UploadRejected("encrypted_xlsx", MSG_ENCRYPTED) from exc
    except Exception as exc:  # calamine's errors, and panics surfaced as exceptions
        raise UploadRejected("bad_xlsx", MSG_BAD_XLSX) from exc


def _sheet(book: Any, name: str) -> Any:
    try:
        return book.get_sheet_by_name(name)
    except Exception as exc:
        raise UploadRejected("bad_xlsx", MSG_BAD_XLSX) from exc


def inspect(path: Path) -> dict:
    """The first visible worksheet with data, its header and the parsed sheet (kept on the
    TableInfo so count_rows and iter_rows do not parse it again)."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    scans = check_xlsx(path)
    book = _open(path)
    header_only = False
    try:
        for meta in book.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            if meta.name in scans:
                scans[meta.name].enforce()
            sheet = _sheet(book, meta.name)
            if sheet.start is None:
                continue
            first = _first_rows(sheet)
            if not first:
                continue
            index = header_index([cells for _n, cells in first])
            if index == len(first) - 1:
                header_only = True
                continue
            return {
                "sheet_name": meta.name,
                "header_row": first[index][0],
                "headers": header_texts(first[index][1]),
                "parsed": sheet,
            }
    finally:
        book.close()
    raise UploadRejected("empty", MSG_HEADER_ONLY if header_only else MSG_EMPTY)


def _first_rows(sheet: Any) -> list[tuple[int, list[str]]]:
    """The first non-blank rows as text, enough to find the header and a row after it."""
    first: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(sheet.iter_rows(), start=1):
        if not _blank(raw):
            first.append((number, [text(v) for v in raw]))
            if len(first) > TITLE_ROWS:
                break
    return first


def load(info: TableInfo, path: Path) -> Any:
    """The sheet ``info`` names: the one inspect_table parsed, or parsed again."""
    if info.parsed is not None:
        return info.parsed
    book = _open(path)
    try:
        return _sheet(book, info.sheet_name)
    finally:
        book.close()


def _merges(sheet: Any, header_row: int) -> dict[int, list[tuple[int, int, tuple[int, int]]]]:
    """Row number -> (first column, last column, anchor) of the merged ranges crossing it,
    columns relative to the sheet's first used column and clipped to its width. Ranges
    anchored in or above the header row are left alone (a header must not fill data)."""
    spans: dict[int, list[tuple[int, int, tuple[int, int]]]] = {}
    if sheet.start is None:
        return spans
    left, width, last_row = sheet.start[1], sheet.width, sheet.end[0] + 1
    for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or ():
        first, last = max(c1 - left, 0), min(c2 - left, width - 1)
        if r1 + 1 <= header_row or first > last:
            continue
        for number in range(r1 + 1, min(r2 + 1, last_row) + 1):
            spans.setdefault(number, []).append((first, last, (r1 + 1, c1 - left)))
    return spans


def data_rows(info: TableInfo, path: Path, skip_through: int) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows after the header, merged ranges filled; rows up to ``skip_through``
    come with no cells (not converted: resuming costs little)."""
    sheet = load(info, path)
    spans = _merges(sheet, info.header_row)
    anchors: dict[tuple[int, int], str] = {}
    for number, raw in enumerate(sheet.iter_rows(), start=1):
        crossing = spans.get(number) if spans else None
        if crossing:
            for _first, _last, anchor in crossing:
                if anchor[0] == number and 0 <= anchor[1] < len(raw):
                    anchors[anchor] = text(raw[anchor[1]])
        if number <= info.header_row or _blank(raw):
            continue
        if number <= skip_through:
            yield number, []
            continue
        cells = [text(v) for v in raw]
        for first, last, anchor in crossing or ():
            value = anchors.get(anchor, "")
            for column in range(first, last + 1):
                if not cells[column]:
                    cells[column] = value
        yield number, cells
