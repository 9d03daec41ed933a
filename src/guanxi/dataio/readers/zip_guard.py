"""An XLSX checked as a zip before calamine reads it.

A zip is small on disk and may be huge unpacked, and its directory may understate what a
member inflates to; calamine also stores a sheet as a dense grid, so one value typed at
row 1,000,000 of column XFD costs gigabytes however small the file. So every member is
inflated here from its raw bytes (as a reader would, not trusting the declared sizes),
counted against GUANXI_IMPORT_MAX_UNPACKED_BYTES and a compression ratio, and each sheet's
XML is scanned on the way for value cells beyond the column and row bounds (a cheap
regex over cell references; styled empty cells do not count, calamine ignores them too).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from .errors import (
    MSG_BAD_XLSX,
    MSG_ENCRYPTED,
    MSG_NOT_TABLE,
    MSG_RATIO,
    MSG_SHEET_TOO_LONG,
    MSG_UNPACKED,
    UploadRejected,
    limit,
    mebibytes,
    too_many_columns,
)

CHUNK = 1024 * 1024
MAX_RATIO = 500  # deflate tops out near 1,000:1; real sheets stay far below 100:1
RATIO_FLOOR = 16 * 1024 * 1024  # smaller members may compress as well as they like
ROW_SLACK = 1.1  # blank rows in between: a sheet may reach a little past the row bound
SMALL_XML = 8 * 1024 * 1024  # workbook.xml and its relationships are a few KB
LOCAL_HEADER = struct.Struct("<4s22xHH")


@dataclass
class SheetScan:
    """What the scan saw beyond the bounds in one sheet's XML."""

    far_column: bool = False
    far_row: int = 0

    def enforce(self) -> None:
        if self.far_column:
            raise too_many_columns()
        if self.far_row:
            raise UploadRejected(
                "too_many_rows",
                MSG_SHEET_TOO_LONG % {"row": self.far_row, "max": limit("GUANXI_IMPORT_MAX_ROWS")},
            )


def check_xlsx(path: Path) -> dict[str, SheetScan]:
    """Refuse a zip that is no workbook, is encrypted or inflates past the bounds; return
    the scan of each sheet by name (bounds of a sheet are enforced when it is chosen)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise UploadRejected("not_a_table", MSG_NOT_TABLE)
            if any(m.flag_bits & 0x1 for m in members):
                raise UploadRejected("encrypted_xlsx", MSG_ENCRYPTED)
            if sum(m.file_size for m in members) > limit("GUANXI_IMPORT_MAX_UNPACKED_BYTES"):
                raise _unpacked()
            sheet_names = _sheet_names(archive)
        scans = _inflate_all(path, members)
    except (zipfile.BadZipFile, zlib.error, struct.error, OSError, EOFError, ValueError) as exc:
        raise UploadRejected("bad_xlsx", MSG_BAD_XLSX) from exc
    by_name = {sheet_names[m]: scan for m, scan in scans.items() if m in sheet_names}
    if len(by_name) < len(scans):  # a sheet we cannot name: hold every sheet to the bounds
        for scan in scans.values():
            scan.enforce()
    return by_name


def _unpacked() -> UploadRejected:
    return UploadRejected(
        "unpacked_too_big", MSG_UNPACKED % {"mb": mebibytes("GUANXI_IMPORT_MAX_UNPACKED_BYTES")}
    )


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Member path -> sheet name, from xl/workbook.xml and its relationships ({} if odd)."""
    try:
        rels_info = archive.getinfo("xl/_rels/workbook.xml.rels")
        book_info = archive.getinfo("xl/workbook.xml")
        if max(rels_info.file_size, book_info.file_size) > SMALL_XML:
            return {}
        targets = {
            el.get("Id"): el.get("Target", "")
            for el in ElementTree.fromstring(archive.read(rels_info)).iter()
            if el.tag.endswith("Relationship")
        }
        result = {}
        for el in ElementTree.fromstring(archive.read(book_info)).iter():
            if not el.tag.endswith("}sheet"):
                continue
            rel = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rel, "")
            if target:
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                result[posixpath.normpath(member)] = el.get("name", "")
        return result
    except (KeyError, ElementTree.ParseError):
        return {}


def _inflate_all(path: Path, members: list[zipfile.ZipInfo]) -> dict[str, SheetScan]:
    far = _far_cell_pattern()
    budget = limit("GUANXI_IMPORT_MAX_UNPACKED_BYTES")
    scans: dict[str, SheetScan] = {}
    with open(path, "rb") as raw:
        for member in members:
            if member.is_dir():
                continue
            is_sheet = member.filename.startswith("xl/worksheets/")
            scan = scans.setdefault(member.filename, SheetScan()) if is_sheet else None
            budget -= _inflate(raw, member, budget, far, scan)
    return scans


def _inflate(
    raw: BinaryIO, member: zipfile.ZipInfo, budget: int, far: re.Pattern, scan: SheetScan | None
) -> int:
    """Inflate one member from its raw bytes; its real size (refused past the budget)."""
    raw.seek(member.header_offset)
    magic, name_len, extra_len = LOCAL_HEADER.unpack(raw.read(LOCAL_HEADER.size))
    if magic != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local header")
    raw.seek(name_len + extra_len, 1)
    if member.compress_type == zipfile.ZIP_STORED:
        inflater = None
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
    else:
        raise zipfile.BadZipFile("unsupported compression")
    left, size, tail = member.compress_size, 0, b""
    while left > 0 or (inflater is not None and inflater.unconsumed_tail):
        if inflater is not None and inflater.unconsumed_tail:
            data = inflater.decompress(inflater.unconsumed_tail, CHUNK)
        else:
            block = raw.read(min(CHUNK, left))
            if not block:
                raise EOFError("truncated member")
            left -= len(block)
            data = inflater.decompress(block, CHUNK) if inflater is not None else block
        size += len(data)
        if size > budget:
            raise _unpacked()
        if size > RATIO_FLOOR and size > MAX_RATIO * max(member.compress_size, 1):
            raise UploadRejected("unpacked_too_big", MSG_RATIO)
        if scan is not None:
            tail = _scan(tail + data, far, scan)
    return size


def _scan(data: bytes, far: re.Pattern, scan: SheetScan) -> bytes:
    """Note value cells beyond the bounds in ``data``; return the unfinished tag for the next
    chunk (a tag cannot hold a raw "<", so everything before the last one is whole)."""
    cut = data.rfind(b"<")
    whole, tail = (data[:cut], data[cut:]) if cut >= 0 else (data, b"")
    for match in far.finditer(whole):
        if whole[match.start() - 1 : match.start()] not in (b"<", b":"):
            continue
        end = whole.find(b">", match.end())
        if end > 0 and whole[end - 1 : end] != b"/":  # <c .../> holds no value
            if column_number(match.group(1)) > limit("GUANXI_IMPORT_MAX_COLUMNS"):
                scan.far_column = True
            row = int(match.group(2))
            if row > _row_bound():
                scan.far_row = max(scan.far_row, row)
    return tail[-4096:] if len(tail) > 4096 else tail


def _row_bound() -> int:
    return int(limit("GUANXI_IMPORT_MAX_ROWS") * ROW_SLACK) + 100


def column_number(letters: bytes) -> int:
    """b"A" -> 1, b"AA" -> 27."""
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def column_name(number: int) -> str:
    """1 -> A, 27 -> AA."""
    name = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def _after(text: str, first: str, last: str) -> str:
    """A regex for tokens of [first-last] that sort after ``text`` as numbers do: longer,
    or as long and larger."""
    any_char = f"[{first}-{last}]"
    parts = [f"{any_char}{{{len(text) + 1},}}"]
    for i, char in enumerate(text):
        if char < last:
            rest = len(text) - i - 1
            parts.append(
                re.escape(text[:i])
                + f"[{chr(ord(char) + 1)}-{last}]"
                + (f"{any_char}{{{rest}}}" if rest else "")
            )
    return "|".join(parts)


def _far_cell_pattern() -> re.Pattern:
    """A cell reference (column letters, row digits) past the column or the row bound."""
    columns = _after(column_name(limit("GUANXI_IMPORT_MAX_COLUMNS")), "A", "Z")
    rows = _after(str(_row_bound()), "0", "9")
    far = f'(?=(?:{columns})[0-9]|[A-Z]{{1,3}}(?:{rows})")'
    # A bare literal start keeps the scan at regex-search speed; the "<" or "x:" before it
    # is checked on the (rare) matches.
    return re.compile(rb'c r="' + far.encode() + rb'([A-Z]{1,3})([0-9]+)"')
