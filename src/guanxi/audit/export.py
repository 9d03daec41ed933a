"""Audit entries as CSV or XLSX files (the rows the audit page shows, every column).

Both are written to a temporary file, one batch of entries at a time, so memory stays flat;
the caller streams the file back. CSV cells that a spreadsheet would run as a formula are
prefixed with ``'``; XLSX cells are written as strings, which are never formulas.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.actions import action_label, object_type_label
from guanxi.audit.models import AuditEntry

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
COLUMN_WIDTHS = (8, 20, 14, 10, 15, 30, 16, 20, 10, 10, 24, 8, 9, 40, 40, 20)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def headers() -> list[str]:
    return [
        "ID",
        _("时间"),
        _("用户名"),
        _("姓名"),
        _("IP"),
        _("客户端"),
        _("操作"),
        _("操作代码"),
        _("对象类型"),
        _("对象ID"),
        _("对象"),
        _("结果"),
        _("错误码"),
        _("参数"),
        _("变更"),
        _("哈希"),
    ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def entry_row(entry: AuditEntry) -> list[str]:
    """One entry as text cells (local time, labels next to codes)."""
    actor = entry.actor if entry.actor_id else None
    return [
        str(entry.pk),
        timezone.localtime(entry.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
        entry.actor_username,
        (getattr(actor, "name", "") or "") if actor else "",
        entry.ip or "",
        entry.user_agent,
        action_label(entry.action),
        entry.action,
        object_type_label(entry.object_type) if entry.object_type else "",
        entry.object_id,
        entry.object_repr,
        str(entry.get_result_display()),
        entry.error_code,
        _json(entry.params),
        _json(entry.changes),
        entry.entry_hash,
    ]


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formula injection (OWASP): a leading ``'`` makes it text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def write_csv(entries: Iterable[AuditEntry]) -> tuple[IO[bytes], int]:
    """UTF-8 with BOM (Excel opens Chinese correctly); returns (file at 0, row count)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(headers())
    count = 0
    for entry in entries:
        writer.writerow([csv_safe(cell) for cell in entry_row(entry)])
        count += 1
    text.flush()
    text.detach()
    out.seek(0)
    return out, count


def write_xlsx(entries: Iterable[AuditEntry]) -> tuple[IO[bytes], int]:
    import xlsxwriter

    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet(_("审计日志"))
    bold = book.add_format({"bold": True})
    for col, width in enumerate(COLUMN_WIDTHS):
        sheet.set_column(col, col, width)
    for col, title in enumerate(headers()):
        sheet.write_string(0, col, title, bold)
    count = 0
    for count, entry in enumerate(entries, start=1):
        for col, cell in enumerate(entry_row(entry)):
            sheet.write_string(count, col, cell)
    book.close()
    out.seek(0)
    return out, count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
