"""docs/errors.md lists exactly the codes the code knows, with the same HTTP status."""

from __future__ import annotations

import re
from pathlib import Path

from guanxi.core.errors import ERROR_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_error_doc_matches_code_table():
    rows = re.findall(r"^\| (ERR-\d{3}) \| (\d{3}) \| ([^|]+) \|", DOC.read_text("utf-8"), re.M)
    documented = {code: (int(status), label.strip()) for code, status, label in rows}
    assert documented == {
        code: (status, str(label)) for code, (status, label) in ERROR_CODES.items()
    }
