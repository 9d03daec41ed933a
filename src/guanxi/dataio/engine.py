"""The import run: read the file, map, clean, find duplicates, write in chunks.

One pass serves both the dry run (nothing written but the batch's counts, preview and row
issues) and the real run. A real run writes chunk by chunk; each chunk's records, its row
issues and the batch's checkpoint (``rows_done``/``last_row``) commit in one transaction,
so a killed run leaves whole chunks only, and a resume starts right after the last one.

Duplicates within the file: rows of the current chunk are compared in memory; rows of
earlier chunks are records by now, found by the same database look-up as any existing
record and told apart by their ``import_batch`` (so memory stays flat for a million rows).
The dry run writes nothing, so it keeps the keys it has seen in memory instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.models import AuditResult
from guanxi.audit.services import audit_record
from guanxi.core.request_memo import memo_scope
from guanxi.dataio.clean_helper import cleaned_chunks, helper_wanted
from guanxi.dataio.importers import get_importer
from guanxi.dataio.importers.base import Importer, Match, Row
from guanxi.dataio.models import (
    DedupeMode,
    ImportBatch,
    ImportRowIssue,
    ImportStatus,
    RowIssueKind,
)
from guanxi.dataio.readers import TableInfo, UploadRejected, count_rows, iter_rows

PREVIEW_ROWS = 100
BULK_CACHE_KIB = 64 * 1024

MSG_WITHIN_FILE = _("与本文件第 %(row)s 行重复（%(rules)s）")
MSG_WITHIN_FILE_EARLIER = _("与本文件中较早的一行重复（%(rules)s，已导入为 %(label)s）")
MSG_DUPLICATE = _("与已有记录重复：%(labels)s（%(rules)s）")
MSG_DUPLICATE_HIDDEN = _("与已有记录重复（%(rules)s；该记录不在您的数据范围内）")
MSG_AMBIGUOUS = _("匹配到多条已有记录，无法确定更新哪一条：%(labels)s")
MSG_OUT_OF_SCOPE = _("匹配到的已有记录不在您可修改的数据范围内（%(rules)s）")
MSG_BLOCKING = _("已存在相同%(rules)s的记录 %(labels)s，不能新建；请选择“更新已有记录”或“跳过重复”")
MSG_FLAGGED = _("已新建，但与已有记录重复：%(labels)s（%(rules)s）")
MSG_MISSING = _("%(field)s：%(message)s")

RULE_LABELS = {
    "name": _("名称"),
    "code": _("编号"),
    "mobile": _("手机号"),
    "phone": _("固定电话"),
    "email": _("邮箱"),
    "uscc": _("统一社会信用代码"),
    "customer": _("客户"),
    "follow_up": _("跟进时间和内容"),
}


def batch_dir(batch: ImportBatch) -> Path:
    return Path(settings.DATA_DIR) / batch.stored_path


def table_info(batch: ImportBatch) -> TableInfo:
    from guanxi.dataio.readers import inspect_table

    return inspect_table(Path(settings.DATA_DIR) / batch.stored_path)


def is_stale(batch: ImportBatch) -> bool:
    """A run whose worker stopped answering (killed, machine restarted)."""
    beat = batch.heartbeat_at or batch.started_at
    stale_after = timedelta(seconds=int(settings.GUANXI_IMPORT_STALE_SECONDS))
    return batch.status == ImportStatus.RUNNING and (
        beat is None or timezone.now() - beat >= stale_after
    )


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    flagged: int = 0
    rows: int = 0

    def add(self, rows: Sequence[Row]) -> None:
        for row in rows:
            self.rows += 1
            if row.action == "create":
                self.created += 1
                self.flagged += row.flagged_id is not None
            elif row.action == "update":
                self.updated += 1
            elif row.action == "skip":
                self.skipped += 1
            else:
                self.errors += 1


@dataclass
class Pass:
    """One pass over a batch's file (dry run or real run)."""

    batch: ImportBatch
    importer: Importer
    write: bool
    headers: list[str] = field(default_factory=list)
    seen: dict[int, int] = field(default_factory=dict)  # dry run: key hash -> row number
    counts: Counts = field(default_factory=Counts)
    preview: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.headers = list(self.batch.headers)
        self.columns = {int(i): f for i, f in self.batch.mapping.items()}
        self.field_columns = {f: i for i, f in self.columns.items()}
        self.labels = {s.name: str(s.label) for s in self.importer.field_specs()}

    # --- rows ----------------------------------------------------------------------------
    def make_row(self, number: int, cells: list[str]) -> Row:
        values = {f: cells[i].strip() for i, f in self.columns.items() if i < len(cells)}
        return Row(number=number, cells=cells, values={k: v for k, v in values.items() if v})

    def decide(self, rows: Sequence[Row]) -> None:
        """Settle what happens to every cleaned row (see ``clean_helper.cleaned_chunks``):
        create, update, skip or error."""
        for row in rows:
            if row.errors:
                row.action = "error"
        matches = self.importer.match([r for r in rows if not r.errors])
        in_chunk: dict[tuple[str, str], int] = {}
        for row in rows:
            if row.errors:
                continue
            self._settle(row, matches, in_chunk)
            if row.action in ("create", "update"):
                for key in row.keys:
                    in_chunk.setdefault(key, row.number)
                    if not self.write:
                        self.seen.setdefault(hash(key), row.number)

    def _settle(
        self,
        row: Row,
        matches: dict[tuple[str, str], list[Match]],
        in_chunk: dict[tuple[str, str], int],
    ) -> None:
        earlier = [(k, in_chunk.get(k) or self.seen.get(hash(k))) for k in row.keys]
        earlier = [(k, n) for k, n in earlier if n]
        found: dict[int, Match] = {}
        rules: dict[int, list[str]] = {}
        for key in row.keys:
            for m in matches.get(key, []):
                found.setdefault(m.id, m)
                rules.setdefault(m.id, []).append(m.rule)
        mine = [m for m in found.values() if m.batch_id == self.batch.pk and self.batch.pk]
        if earlier:
            row.action = "skip"
            row.note = str(
                MSG_WITHIN_FILE
                % {"row": earlier[0][1], "rules": _rules([k[0] for k, _n in earlier])}
            )
            return
        if mine:
            row.action = "skip"
            row.note = str(
                MSG_WITHIN_FILE_EARLIER
                % {"rules": _rules(rules[mine[0].id]), "label": mine[0].label}
            )
            return
        existing = [m for m in found.values() if m.batch_id != self.batch.pk or not m.batch_id]
        if not existing:
            row.action = "create"
            return
        all_rules = _rules([r for m in existing for r in rules[m.id]])
        labels = "、".join(m.label for m in existing if m.in_scope)
        mode = self.batch.dedupe
        if mode == DedupeMode.SKIP:
            row.action = "skip"
            row.note = str(
                (MSG_DUPLICATE % {"labels": labels, "rules": all_rules})
                if labels
                else MSG_DUPLICATE_HIDDEN % {"rules": all_rules}
            )
        elif mode == DedupeMode.UPDATE:
            if len(existing) > 1:
                row.action = "error"
                row.errors = {"": [str(MSG_AMBIGUOUS % {"labels": labels or "…"})]}
            elif not existing[0].in_scope:
                row.action = "error"
                row.errors = {"": [str(MSG_OUT_OF_SCOPE % {"rules": all_rules})]}
            else:
                row.action, row.target_id = "update", existing[0].id
        else:
            blocking = [m for m in existing if set(rules[m.id]) & self.importer.blocking_rules]
            if blocking:
                row.action = "error"
                row.errors = {
                    "": [
                        str(
                            MSG_BLOCKING
                            % {
                                "rules": _rules([r for m in blocking for r in rules[m.id]]),
                                "labels": "、".join(m.label for m in blocking) or "…",
                            }
                        )
                    ]
                }
            else:
                row.action, row.flagged_id = "create", existing[0].id
                row.note = str(MSG_FLAGGED % {"labels": labels or "…", "rules": all_rules})

    # --- issues and preview --------------------------------------------------------------
    def issues(self, rows: Sequence[Row]) -> list[ImportRowIssue]:
        out: list[ImportRowIssue] = []
        for row in rows:
            if row.action == "error":
                for fname, messages in row.errors.items():
                    fname = fname.replace("custom_fields.", "cf:")
                    col = self.field_columns.get(fname)
                    header = self.headers[col] if col is not None else ""
                    for message in messages:
                        text = message
                        if col is None and fname in self.labels:
                            text = str(
                                MSG_MISSING % {"field": self.labels[fname], "message": message}
                            )
                        out.append(
                            ImportRowIssue(
                                batch=self.batch,
                                kind=RowIssueKind.ERROR,
                                row_number=row.number,
                                column=header,
                                field=fname,
                                value=row.cells[col]
                                if col is not None and col < len(row.cells)
                                else "",
                                message=text,
                                raw=row.cells,
                            )
                        )
            elif row.action == "skip" or row.flagged_id is not None:
                out.append(
                    ImportRowIssue(
                        batch=self.batch,
                        kind=RowIssueKind.DUPLICATE_SKIPPED
                        if row.action == "skip"
                        else RowIssueKind.DUPLICATE_FLAGGED,
                        row_number=row.number,
                        message=row.note,
                        raw=row.cells,
                        object_id=row.target_id,
                        matched_id=row.flagged_id,
                    )
                )
        return out

    def keep_preview(self, rows: Sequence[Row]) -> None:
        for row in rows:
            if len(self.preview) >= PREVIEW_ROWS:
                return
            cell_errors: dict[str, list[str]] = {}
            general: list[str] = []
            for fname, messages in row.errors.items():
                col = self.field_columns.get(fname.replace("custom_fields.", "cf:"))
                if col is None:
                    label = self.labels.get(fname, "")
                    general += [f"{label}：{m}" if label else m for m in messages]
                else:
                    cell_errors.setdefault(str(col), []).extend(messages)
            self.preview.append(
                {
                    "row": row.number,
                    "cells": row.cells[: len(self.headers)],
                    "errors": cell_errors,
                    "general": general,
                    "action": row.action,
                    "note": row.note,
                }
            )


def _rules(rules: Sequence[str]) -> str:
    return "、".join(str(RULE_LABELS.get(r, r)) for r in dict.fromkeys(rules))


def _chunks(
    rows: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def chunk_rows() -> int:
    return int(settings.GUANXI_IMPORT_CHUNK_ROWS)


def _cleaned(
    run: Pass, source: Iterator[tuple[int, list[str]]], rows_left: int | None
) -> Iterator[list[Row]]:
    """The file's rows in chunks, cleaned (by the helper process when it is worth one) and,
    in a real run, prepared for the write."""
    size = chunk_rows()
    chunks = ([run.make_row(n, cells) for n, cells in chunk] for chunk in _chunks(source, size))
    return cleaned_chunks(
        run.importer,
        chunks,
        use_helper=helper_wanted(run.importer, rows_left, size),
        prepare=run.write,
    )


# --- the two passes ------------------------------------------------------------------------
def validate_batch(
    batch_id: int, *, on_progress: Callable[[ImportBatch], None] | None = None
) -> ImportBatch:
    """The dry run: every row cleaned and checked for duplicates, nothing written but the
    batch's counts, its preview and its row issues (so the error report can be had first).
    A dry run that fails (a bound met half-way, a broken file) puts the batch back to its
    mapping step with the reason."""
    try:
        return _validate(batch_id, on_progress)
    except Exception as exc:
        failure = (
            str(exc.message) if isinstance(exc, UploadRejected) else f"{type(exc).__name__}: {exc}"
        )
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportStatus.UPLOADED, failure=failure[:2000]
        )
        raise


def _validate(batch_id: int, on_progress: Callable[[ImportBatch], None] | None) -> ImportBatch:
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    info = table_info(batch)
    importer = get_importer(batch.object_type)
    with memo_scope():
        importer.begin(actor=batch.created_by, batch=batch)
        run = Pass(batch=batch, importer=importer, write=False)
        ImportRowIssue.objects.filter(batch=batch).delete()
        batch.status, batch.rows_done, batch.started_rows = ImportStatus.VALIDATING, 0, 0
        batch.started_at = batch.heartbeat_at = timezone.now()
        batch.total_rows = count_rows(info, batch_dir(batch))
        batch.save()
        for rows in _cleaned(run, iter_rows(info, batch_dir(batch)), batch.total_rows):
            run.decide(rows)
            run.counts.add(rows)
            run.keep_preview(rows)
            ImportRowIssue.objects.bulk_create(run.issues(rows), batch_size=1000)
            batch.rows_done, batch.last_row = run.counts.rows, rows[-1].number
            batch.heartbeat_at = timezone.now()
            batch.save(update_fields=["rows_done", "last_row", "heartbeat_at"])
            if on_progress:
                on_progress(batch)
    c = run.counts
    batch.dry_run = {
        "rows": c.rows,
        "create": c.created,
        "update": c.updated,
        "skip": c.skipped,
        "errors": c.errors,
        "flagged": c.flagged,
    }
    batch.preview = run.preview
    batch.total_rows = c.rows
    batch.status = ImportStatus.VALIDATED
    batch.failure = ""
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def claim(batch_id: int) -> ImportBatch | None:
    """Take a batch for a run, unless another worker holds a live run of it."""
    now = timezone.now()
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update().select_related("created_by").get(pk=batch_id)
        )
        runnable = batch.status in (ImportStatus.QUEUED, ImportStatus.INTERRUPTED) or is_stale(
            batch
        )
        if not runnable:
            return None
        batch.status = ImportStatus.RUNNING
        batch.started_at = batch.heartbeat_at = now
        batch.started_rows = batch.rows_done
        batch.failure = ""
        batch.save()
    return batch


def run_batch(
    batch_id: int, *, on_chunk: Callable[[ImportBatch], None] | None = None
) -> ImportBatch:
    """The real run (or its resume after ``last_row``). Returns the batch as it ended."""
    batch = claim(batch_id)
    if batch is None:
        return ImportBatch.objects.get(pk=batch_id)
    try:
        _run(batch, on_chunk)
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED,
            failure=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        audit_record(
            actor=batch.created_by,
            action="import.run",
            object_type="import_batch",
            object_id=batch.pk,
            object_repr=str(batch),
            result=AuditResult.FAILED,
            params={"error": f"{type(exc).__name__}: {exc}"[:500], "rows_done": batch.rows_done},
        )
        raise
    return ImportBatch.objects.get(pk=batch_id)


@contextmanager
def _bulk_cache() -> Iterator[None]:
    """SQLite: a larger page cache for this connection while chunks are written, so a
    chunk's index pages stay in memory instead of spilling to the WAL mid-transaction; and
    no memory-mapped reads meanwhile, because an import touches every page of the customers
    table and its indexes, and mapped pages would count against the import's memory bound."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        cache_before = cur.fetchone()[0]
        cur.execute("PRAGMA mmap_size")
        mmap_before = (cur.fetchone() or [0])[0]
        cur.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        cur.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size={int(cache_before)}")
            cur.execute(f"PRAGMA mmap_size={int(mmap_before)}")


def _run(batch: ImportBatch, on_chunk: Callable[[ImportBatch], None] | None) -> None:
    with _bulk_cache():
        _run_chunks(batch, on_chunk)


def _run_chunks(batch: ImportBatch, on_chunk: Callable[[ImportBatch], None] | None) -> None:
    info = table_info(batch)
    importer = get_importer(batch.object_type)
    started = time.perf_counter()
    with memo_scope():
        importer.begin(actor=batch.created_by, batch=batch)
        run = Pass(batch=batch, importer=importer, write=True)
        if batch.total_rows is None:
            batch.total_rows = count_rows(info, batch_dir(batch))
            batch.save(update_fields=["total_rows"])
        source = iter_rows(info, batch_dir(batch), start_after=batch.last_row)
        for rows in _cleaned(run, source, batch.total_rows - batch.rows_done):
            run.decide(rows)
            with transaction.atomic():
                importer.write(rows)
                counts = Counts()
                counts.add(rows)
                ImportRowIssue.objects.bulk_create(run.issues(rows), batch_size=1000)
                batch.rows_done += counts.rows
                batch.last_row = rows[-1].number
                batch.created_count += counts.created
                batch.updated_count += counts.updated
                batch.skipped_count += counts.skipped
                batch.error_count += counts.errors
                batch.flagged_count += counts.flagged
                batch.heartbeat_at = timezone.now()
                batch.save(
                    update_fields=[
                        "rows_done",
                        "last_row",
                        "created_count",
                        "updated_count",
                        "skipped_count",
                        "error_count",
                        "flagged_count",
                        "heartbeat_at",
                    ]
                )
            if on_chunk:
                on_chunk(batch)
    batch.status = ImportStatus.DONE
    batch.finished_at = timezone.now()
    batch.total_rows = batch.rows_done
    batch.save(update_fields=["status", "finished_at", "total_rows"])
    audit_record(
        actor=batch.created_by,
        action="import.run",
        object_type="import_batch",
        object_id=batch.pk,
        object_repr=str(batch),
        params={
            "object_type": batch.object_type,
            "file": batch.file_name,
            "dedupe": batch.dedupe,
            "rows": batch.rows_done,
            "created": batch.created_count,
            "updated": batch.updated_count,
            "skipped": batch.skipped_count,
            "errors": batch.error_count,
            "flagged": batch.flagged_count,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
