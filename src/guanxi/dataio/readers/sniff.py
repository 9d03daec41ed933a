"""What a file is, judged by its bytes (a name is only a claim), and how a CSV is written.

Encoding: a BOM decides; otherwise UTF-8 if the file decodes strictly as UTF-8, else
GB18030 (a superset of GBK and GB2312, what Chinese Excel writes as "CSV"). A sample
decides quickly, then the whole file is decoded once (~0.3 s per 100 MB), so a wrong
byte at row 900,000 is refused at upload instead of failing an import half-way.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections import Counter
from pathlib import Path

from .errors import MSG_ENCODING, MSG_ENCRYPTED, MSG_NOT_TABLE, MSG_OLD_FORMAT, UploadRejected

SAMPLE_BYTES = 64 * 1024
BLOCK = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc and password-protected .xlsx
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
BINARY_MAGICS = (
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"\x7fELF",
    b"\x1f\x8b",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"PK\x05\x06",
    b"BZh91AY",
    b"\xfd7zXZ\x00",
)
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Control bytes no text editor writes (tab, CR, LF, FF and ESC aside).
CONTROL = bytes([*range(1, 9), 11, *range(14, 27), *range(28, 32)])
DELIMITERS = (",", "\t", ";")


def not_a_table() -> UploadRejected:
    return UploadRejected("not_a_table", MSG_NOT_TABLE)


def bad_encoding() -> UploadRejected:
    return UploadRejected("bad_encoding", MSG_ENCODING)


def file_kind(path: Path, head: bytes) -> str:
    """ "xlsx" for a zip (checked further as a workbook), "csv" for what may be text."""
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        if _contains(path, ENCRYPTED_STREAM):
            raise UploadRejected("encrypted_xlsx", MSG_ENCRYPTED)
        raise UploadRejected("not_a_table", MSG_OLD_FORMAT)
    if head.startswith(BINARY_MAGICS):
        raise not_a_table()
    return "csv"


def _contains(path: Path, needle: bytes) -> bool:
    """Whether the file holds ``needle`` (an OLE directory may sit anywhere in the file)."""
    carry = b""
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            if needle in carry + block:
                return True
            carry = block[-len(needle) :]
    return False


def csv_encoding(path: Path, head: bytes) -> str:
    """The file's encoding, the whole file decoded once to prove it; refuses binary data."""
    if head.startswith(codecs.BOM_UTF8):
        return _proven(path, "utf-8-sig")
    if head.startswith(UTF16_BOMS):  # Excel's "Unicode text": tab-separated UTF-16
        return _proven(path, "utf-16")
    if b"\x00" in head or sum(head.count(c) for c in CONTROL) > len(head) // 100:
        raise not_a_table()
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return _proven(path, "gb18030")
    if _decodes(path, "utf-8"):
        return "utf-8"
    # UTF-8 text in the sample, then a bad byte: a damaged file, not GBK.
    if head.isascii() and _decodes(path, "gb18030"):
        return "gb18030"
    raise bad_encoding()


def _proven(path: Path, encoding: str) -> str:
    if not _decodes(path, encoding):
        raise bad_encoding()
    return encoding


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes strictly (NUL bytes outside UTF-16 mean binary)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    wide = encoding == "utf-16"
    with open(path, "rb") as f:
        try:
            while block := f.read(BLOCK):
                if not wide and b"\x00" in block:
                    raise not_a_table()
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def sample_text(head: bytes, encoding: str, whole: bool) -> str:
    """The sample as text, cut after its last full line unless it is the whole file."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=whole)
    if not whole and (cut := text.rfind("\n")) > 0:
        text = text[:cut]
    return text


def csv_delimiter(sample: str) -> str:
    """Comma, tab or semicolon: the one that splits the most of the first rows into the same
    number (above one) of fields; ties go to the wider split, then to the comma."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
        try:
            widths = [len(r) for r in itertools.islice(reader, 50) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not widths:
            continue
        width, rows = Counter(widths).most_common(1)[0]
        score = (rows, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best
