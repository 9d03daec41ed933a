"""Import files read as tables of text: CSV (UTF-8 with or without BOM, GBK/GB18030, also
Excel's UTF-16 "Unicode text") and XLSX, checked by content and bounded before a row is read.

The file type comes from the bytes, not the name. Bounds (settings): file size, columns and
data rows, and for an XLSX its unpacked size and compression ratio (a zip bomb is small on
disk) and how far its sheet reaches (calamine holds a sheet as a dense grid). CSV rows
stream, so a million-row file costs no more memory than a short one.

Rows come as (row number, cells): the number a spreadsheet shows for that row, the cells
stripped text, one per header. Short rows are padded with ""; non-empty cells past the
last header are appended (not dropped) so the engine can report data without a column.
Blank rows are skipped but keep their numbers counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import csv_table, xlsx_table
from .errors import MSG_EMPTY, MSG_TOO_BIG, UploadRejected, limit, mebibytes, too_many_rows
from .shape import fit
from .sniff import SAMPLE_BYTES, file_kind


@dataclass(frozen=True)
class TableInfo:
    kind: str  # "csv" | "xlsx"
    encoding: str  # CSV: "utf-8-sig" | "utf-8" | "gb18030" | "utf-16"; XLSX: ""
    sheet_name: str  # XLSX: the first visible worksheet with data; CSV: ""
    header_row: int  # 1-based number of the header row (the first non-blank row)
    headers: list[str]  # stripped header texts, a blank one named "列<N>"
    size: int  # bytes
    delimiter: str = ","  # CSV: "," | "\t" | ";"
    # XLSX: the sheet as inspect_table parsed it, so count_rows and iter_rows on this info
    # do not parse it again (about a second per 100,000 rows).
    parsed: Any = field(default=None, compare=False, repr=False)


def inspect_table(path: str | os.PathLike[str]) -> TableInfo:
    """Type (by content), bounds, encoding, delimiter, sheet and header of ``path``.
    Raises UploadRejected for anything that is not a table within the bounds, for an
    empty file and for a header without data rows."""
    path = Path(path)
    size = path.stat().st_size
    if size > limit("GUANXI_IMPORT_MAX_BYTES"):
        raise UploadRejected("too_big", MSG_TOO_BIG % {"mb": mebibytes("GUANXI_IMPORT_MAX_BYTES")})
    if size == 0:
        raise UploadRejected("empty", MSG_EMPTY)
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if file_kind(path, head) == "xlsx":
        return TableInfo(kind="xlsx", encoding="", size=size, **xlsx_table.inspect(path))
    return TableInfo(kind="csv", sheet_name="", size=size, **csv_table.inspect(path, size, head))


def _source(info: TableInfo, path: Path, skip_through: int) -> Iterator[tuple[int, list[str]]]:
    """Non-blank data rows past the row bound refused; rows up to ``skip_through`` empty."""
    rows = (csv_table if info.kind == "csv" else xlsx_table).data_rows(info, path, skip_through)
    bound = limit("GUANXI_IMPORT_MAX_ROWS")
    for seen, row in enumerate(rows, start=1):
        if seen > bound:
            raise too_many_rows()
        yield row


def iter_rows(
    info: TableInfo, path: str | os.PathLike[str], *, start_after: int = 0
) -> Iterator[tuple[int, list[str]]]:
    """Data rows after the header as (row number, cells), blank rows skipped; rows numbered
    up to ``start_after`` are passed over without being converted (a resumed import).
    Raises UploadRejected("too_many_rows") once the bound is passed, counting from the
    first data row whatever ``start_after`` is."""
    width = len(info.headers)
    for number, cells in _source(info, Path(path), start_after):
        if number > start_after:
            yield number, fit(cells, width)


def count_rows(info: TableInfo, path: str | os.PathLike[str]) -> int:
    """Non-blank data rows (a progress bar's total); streams a CSV, converts no XLSX cell.
    Raises UploadRejected("too_many_rows") past the bound, like iter_rows."""
    return sum(1 for _row in _source(info, Path(path), skip_through=2**62))


def sample_rows(info: TableInfo, path: str | os.PathLike[str], count: int = 3) -> list[list[str]]:
    """The first ``count`` data rows' cells (a mapping page's examples)."""
    rows = []
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
