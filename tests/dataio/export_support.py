"""Helpers for the export tests: read back what a download holds (CSV, XLSX, XML, PDF)."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from typing import Any
from xml.etree import ElementTree

import openpyxl
from django.contrib.auth.models import Permission


def download(response: Any) -> bytes:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    return b"".join(response.streaming_content)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(data: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def xml_root(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)


def pdf_pages(data: bytes) -> int:
    """The page count in the PDF's page tree."""
    match = re.search(rb"/Count (\d+)", data)
    assert match, "no page tree"
    return int(match.group(1))


def pdf_text_chars(data: bytes) -> set[str]:
    """Every character the PDF draws with an embedded font, from the fonts' ToUnicode maps
    (which list exactly the characters of the subset the text uses)."""
    chars: set[str] = set()
    for m in re.finditer(rb"stream\r?\n", data):
        if data[m.start() - 3 : m.start()] == b"end":
            continue
        header = data[data.rfind(b" obj", 0, m.start()) : m.start()]
        body = data[m.end() : data.find(b"endstream", m.end())].rstrip()
        if b"ASCII85Decode" in header:
            body = base64.a85decode(body.removesuffix(b"~>"))
        if b"FlateDecode" in header:
            body = zlib.decompress(body)
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", body, re.S):
            for code in re.findall(rb"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4})>", block):
                chars.add(chr(int(code, 16)))
    return chars


def grant(user: Any, *codenames: str) -> Any:
    """Give ``user`` extra permissions (and drop Django's cached copy of them)."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user
