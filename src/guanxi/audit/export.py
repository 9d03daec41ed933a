"""Audit entries as CSV or XLSX files (the rows the audit page shows, every column).

Both are written to a temporary file, one batch of entries at a time, so memory stays flat;
the caller streams the file back. CSV cells that a spreadsheet would run as a formula are
prefixed with ``'``; XLSX cells are written as strings, which are never formulas.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.actions import action_label, object_type_label
from guanxi.audit.models import AuditEntry
from guanxi.dataio import tables

COLUMN_WIDTHS = (8, 20, 14, 10, 15, 30, 16, 20, 10, 10, 24, 8, 9, 40, 40, 20)
CONTENT_TYPES = tables.CONTENT_TYPES
csv_safe = tables.csv_safe


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


def write_csv(entries: Iterable[AuditEntry]) -> tuple[IO[bytes], int]:
    """UTF-8 with BOM (Excel opens Chinese correctly); returns (file at 0, row count)."""
    return tables.write_csv(headers(), (entry_row(e) for e in entries))


def write_xlsx(entries: Iterable[AuditEntry]) -> tuple[IO[bytes], int]:
    return tables.write_xlsx(
        headers(), (entry_row(e) for e in entries), sheet=_("审计日志"), widths=COLUMN_WIDTHS
    )


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
