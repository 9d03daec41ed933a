"""CSV rows, streamed: one record in memory at a time, however long the file.

Rows are numbered as a spreadsheet shows the file: one per record (a quoted cell may hold
line breaks), blank lines included. The csv module's field size limit stays at its default
(128 K characters): a quote left open would otherwise swallow the rest of the file into
one cell; it is reported instead.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MSG_BAD_CSV, MSG_EMPTY, MSG_HEADER_ONLY, UploadRejected
from .shape import TITLE_ROWS, header_index, header_texts
from .sniff import SAMPLE_BYTES, bad_encoding, csv_delimiter, csv_encoding, sample_text

if TYPE_CHECKING:
    from . import TableInfo


def records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, stripped cells) of every record, blank ones included."""
    number = 0
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            for number, record in enumerate(reader, start=1):
                yield number, [c.strip() for c in record]
        except csv.Error as exc:
            raise UploadRejected("bad_csv", MSG_BAD_CSV % {"row": number + 1}) from exc
        except UnicodeDecodeError as exc:  # the file changed since it was inspected
            raise bad_encoding() from exc


def inspect(path: Path, size: int, head: bytes) -> dict:
    """Encoding, delimiter and header of a CSV; refused when it holds no data row."""
    encoding = csv_encoding(path, head)
    delimiter = csv_delimiter(sample_text(head, encoding, whole=size <= SAMPLE_BYTES))
    first: list[tuple[int, list[str]]] = []  # the first non-blank rows, enough to find the header
    for number, cells in records(path, encoding, delimiter):
        if any(cells):
            first.append((number, cells))
            if len(first) > TITLE_ROWS:
                break
    if not first:
        raise UploadRejected("empty", MSG_EMPTY)
    index = header_index([cells for _n, cells in first])
    if index == len(first) - 1:
        raise UploadRejected("empty", MSG_HEADER_ONLY)
    return {
        "encoding": encoding,
        "delimiter": delimiter,
        "header_row": first[index][0],
        "headers": header_texts(first[index][1]),
    }


def data_rows(info: TableInfo, path: Path, skip_through: int) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows after the header; rows up to ``skip_through`` come with no cells."""
    for number, cells in records(path, info.encoding, info.delimiter):
        if number > info.header_row and any(cells):
            yield number, (cells if number > skip_through else [])
