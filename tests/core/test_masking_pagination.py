"""Masking formats and keyset cursors."""

from __future__ import annotations

import pytest

from guanxi.core.masking import mask
from guanxi.core.pagination import BadCursor, _decode, _encode


@pytest.mark.parametrize(
    ("field", "value", "masked"),
    [
        ("mobile", "13812345678", "138****5678"),
        ("phone", "010-12345678", "010-****5678"),
        ("phone", "0755-1234567-801", "0755-****4567"),
        ("email", "zhangsan@example.com", "z***n@example.com"),
        ("email", "a@x.com", "a***@x.com"),
        ("uscc", "91350100M000100Y43", "9135**********0Y43"),
        ("id_number", "11010519491231002X", "110105********002X"),
        ("mobile", "", ""),
    ],
)
def test_mask(field, value, masked):
    assert mask(field, value) == masked


def test_cursor_round_trip_and_rejects_foreign_cursors():
    cursor = _encode("2026-01-01T00:00:00+08:00", 42, "-created_at", False)
    assert _decode(cursor, "-created_at") == ("2026-01-01T00:00:00+08:00", 42, False)
    with pytest.raises(BadCursor):
        _decode(cursor, "name")
    for junk in ("", "!!!", "bm90IGpzb24", "WzEsMl0"):
        with pytest.raises(BadCursor):
            _decode(junk, "-id")
