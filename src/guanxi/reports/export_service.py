"""Exporting a report to Excel or PDF: permission, format, the report built in the caller's
scope, the file, and the audit entry (``report.export`` with the report key, its parameters,
the format and the rows written; refusals and bad parameters are audited as denied/failed).

A report file needs two rights: ``reports.view_report`` (seeing the report at all) and
``customers.export_customer`` (taking customer data out of the system as a file), the same
export right the customer list's 导出 needs, so one switch in the role editor governs files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.dataio.export_service import used_filters
from guanxi.reports.export_files import CONTENT_TYPES, FORMATS, report_file, report_filename
from guanxi.reports.report_errors import ReportParamsError
from guanxi.reports.results import ReportResult

EXPORT_ACTION = "report.export"
EXPORT_PERMS = ("reports.view_report", "customers.export_customer")
MSG_FORMAT = _("报表导出格式只能是 xlsx 或 pdf")

register_actions({EXPORT_ACTION: _("导出统计报表")})


@dataclass
class ReportFile:
    """A written report file on its way to the user (or an e-mail)."""

    content: bytes
    filename: str
    content_type: str
    result: ReportResult
    rows: int


def result_rows(result: ReportResult) -> int:
    """Rows written: the rows of every table (a chart's numbers repeat a table's)."""
    return sum(len(t.rows) for t in result.tables)


def build_checked(*, user: Any, key: str, params: Mapping[str, Any]) -> ReportResult:
    """The report ``key`` for ``user``; an unknown key is NotFound and bad parameters a
    ValidationError carrying the per-field messages (so refusals are audited alike)."""
    from guanxi.reports.definitions import REPORTS, build_report

    if key not in REPORTS:
        raise NotFound()
    try:
        return build_report(user=user, key=key, params=params)
    except ReportParamsError as exc:
        raise ValidationError(exc.errors) from exc


def write_report_file(result: ReportResult, fmt: str, *, user: Any) -> ReportFile:
    """The file of an already built report (no permission check: callers have done it)."""
    now = timezone.now()
    return ReportFile(
        content=report_file(result, fmt, user=user, generated_at=now),
        filename=report_filename(result, fmt, now),
        content_type=CONTENT_TYPES[fmt],
        result=result,
        rows=result_rows(result),
    )


@audited_refusals(EXPORT_ACTION)
def report_export(
    *,
    actor: Any,
    key: str,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None = None,
) -> ReportFile:
    """Report ``key`` with ``params`` as the actor may see it, written as ``fmt``; audited."""
    for perm in EXPORT_PERMS:
        if not actor.has_perm(perm):
            raise PermissionDenied()
    if fmt not in FORMATS:
        raise ValidationError({"format": [MSG_FORMAT]})
    result = build_checked(user=actor, key=key, params=params)
    file = write_report_file(result, fmt, user=actor)
    audit_record(
        actor=actor,
        action=EXPORT_ACTION,
        object_type="report",
        object_id=key,
        object_repr=result.title,
        params={"format": fmt, "filters": used_filters(params), "rows": file.rows},
        meta=meta,
    )
    return file
