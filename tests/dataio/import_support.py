"""Helpers for import tests: write real CSV/XLSX files and run them through the engine."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guanxi.dataio import engine, import_services
from guanxi.dataio.models import ImportBatch

TEMPLATE_HEADERS = [
    "客户名称",
    "客户类型",
    "所属行业",
    "联系人",
    "职务",
    "手机号",
    "邮箱",
    "客户来源",
    "客户标签",
    "地址",
    "备注",
]


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def upload(
    actor: Any, path: Path, object_type: str = "customer", dedupe: str = "skip"
) -> ImportBatch:
    batch = import_services.import_upload(
        actor=actor, object_type=object_type, source=path, file_name=path.name
    )
    return import_services.import_configure(
        actor=actor, batch=batch, mapping_data=batch.mapping, dedupe=dedupe
    )


def dry_run(actor: Any, path: Path, **kwargs: Any) -> ImportBatch:
    batch = upload(actor, path, **kwargs)
    return engine.validate_batch(batch.pk)


def run(actor: Any, path: Path, **kwargs: Any) -> ImportBatch:
    batch = upload(actor, path, **kwargs)
    import_services.import_start(actor=actor, batch=batch, queue=False)
    return engine.run_batch(batch.pk)


def issues(batch: ImportBatch, kind: str = "error") -> list[tuple[int, str, str]]:
    return list(
        batch.issues.filter(kind=kind)
        .order_by("row_number", "id")
        .values_list("row_number", "column", "message")
    )
