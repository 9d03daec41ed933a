"""The error report of an import batch, as an XLSX the user can fix and import again.

Sheet 1 (需修正的行) repeats every refused row as it was in the file, under the file's own
headers, with one more column 错误说明 at the end: correct the cells, delete the column or
leave it (an unmapped column is simply not imported) and upload the sheet again. Sheet 2
(错误明细) lists every issue, refused rows and duplicates alike. Cells are written as text,
so a value that looks like a formula stays what the user typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from guanxi.audit.services import RequestMeta, audit_record
from guanxi.dataio import tables
from guanxi.dataio.models import ImportBatch, ImportRowIssue, RowIssueKind

ROWS_SHEET = "需修正的行"
DETAIL_SHEET = "错误明细"
EXPLAIN_HEADER = "错误说明"
DETAIL_HEADERS = ("行号", "类型", "列", "原值", "原因")
ISSUE_CHUNK = 2000


def _message(issue: dict[str, Any]) -> str:
    column, message = issue["column"], issue["message"]
    return f"{column}：{message}" if column and not message.startswith(column) else message


def _rows_to_fix(batch: ImportBatch, width: int) -> Iterator[list[str]]:
    """One line per refused row: its cells as read, then all its messages."""
    issues = (
        ImportRowIssue.objects.filter(batch=batch, kind=RowIssueKind.ERROR)
        .order_by("row_number", "id")
        .values("row_number", "column", "message", "raw")
        .iterator(chunk_size=ISSUE_CHUNK)
    )
    current: int | None = None
    cells: list[str] = []
    messages: list[str] = []
    for issue in issues:
        if issue["row_number"] != current:
            if current is not None:
                yield [*cells, "；".join(messages)]
            current, messages = issue["row_number"], []
            raw = [str(c) for c in (issue["raw"] or [])][:width]
            cells = raw + [""] * (width - len(raw))
        messages.append(_message(issue))
    if current is not None:
        yield [*cells, "；".join(messages)]


def _details(batch: ImportBatch) -> Iterator[list[Any]]:
    labels = dict(RowIssueKind.choices)
    issues = (
        ImportRowIssue.objects.filter(batch=batch)
        .order_by("row_number", "id")
        .values_list("row_number", "kind", "column", "value", "message")
        .iterator(chunk_size=ISSUE_CHUNK)
    )
    for row_number, kind, column, value, message in issues:
        yield [row_number, str(labels.get(kind, kind)), column, value, message]


def error_report(batch: ImportBatch) -> tuple[IO[bytes], str]:
    """The report file (rewound) and its download name."""
    headers = [str(h) for h in batch.headers]
    width = len(headers)
    file, _count = tables.write_xlsx_sheets(
        [
            tables.Sheet(
                ROWS_SHEET,
                [*headers, EXPLAIN_HEADER],
                _rows_to_fix(batch, width),
                widths=[16] * width + [60],
            ),
            tables.Sheet(DETAIL_SHEET, DETAIL_HEADERS, _details(batch), widths=(8, 10, 16, 24, 60)),
        ]
    )
    stem = Path(batch.file_name).stem[:80] or f"import-{batch.pk}"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return file, f"{stem}-错误报告-{stamp}.xlsx"


def error_report_download(
    *, actor: Any, batch: ImportBatch, meta: RequestMeta | None = None
) -> tuple[IO[bytes], str]:
    """The report for a batch the caller may see (the selector decides that), audited: it
    carries the rows' original values, personal data included."""
    file, name = error_report(batch)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="import.error_report",
            obj=batch,
            object_type="import_batch",
            params={"file": batch.file_name, "issues": batch.issues.count()},
            meta=meta,
        )
    return file, name
