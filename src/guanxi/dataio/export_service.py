"""Exporting a list: permission, format, the list's filters in the exporter's scope, row caps,
the file, and the audit entry; large page exports go to the worker (dataio.export_jobs).

One service for every list in dataio.exporters, so the rules hold alike for customers,
contacts and follow-ups: a refused or invalid export is audited (``<object>.export``,
denied/failed), a written one is audited with its filters and row count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.audit.actions import register_actions
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import PermissionDenied
from guanxi.dataio import tables
from guanxi.dataio.exporters import FORMATS, Exporter, ExportSource, exporter_get

MSG_FORMAT = _("导出格式只能是 xlsx、csv、json、xml 或 pdf")
MSG_TOO_MANY = _(
    "符合条件的%(what)s超过 %(cap)s 条，请缩小筛选范围后再导出，或使用命令行 guanxi export"
)
MSG_PDF_TOO_MANY = _("PDF 最多导出 %(cap)s 条，请缩小筛选范围，或改用 Excel、CSV 格式")
NOT_FILTERS = ("format", "csrfmiddlewaretoken", "cursor")

register_actions(
    {
        "contact.export": _("导出联系人"),
        "follow_up.export": _("导出跟进记录"),
        "follow_up_due.export": _("导出我的跟进"),
        "export_job.create": _("提交后台导出"),
        "export_job.download": _("下载导出文件"),
        "export_job.purge": _("清理过期导出文件"),
    }
)


def export_max_rows() -> int:
    return int(getattr(settings, "GUANXI_EXPORT_MAX_ROWS", 100_000))


def pdf_max_rows() -> int:
    return int(getattr(settings, "GUANXI_EXPORT_PDF_MAX_ROWS", 5_000))


def background_rows() -> int:
    return int(getattr(settings, "GUANXI_EXPORT_BACKGROUND_ROWS", 20_000))


def used_filters(params: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty list parameters of the export, for its audit entry and its job."""
    return {k: str(params.get(k)) for k in params if params.get(k) and k not in NOT_FILTERS}


def prepare(actor: Any, exporter: Exporter, params: Mapping[str, Any], fmt: str) -> ExportSource:
    """Permission, format and filters checked; the rows to write (not read yet)."""
    for perm in exporter.perms:
        if not actor.has_perm(perm):
            raise PermissionDenied()
    if fmt not in FORMATS:
        raise ValidationError({"format": [MSG_FORMAT]})
    return exporter.source(actor, params)


def check_size(exporter: Exporter, source: ExportSource, fmt: str, cap: int | None) -> int:
    """The matching row count (up to the bound + 1), or a refusal past ``cap`` or the PDF cap:
    an export is refused, never silently cut short."""
    limits = [c for c in (cap, pdf_max_rows() if fmt == "pdf" else None) if c is not None]
    if not limits:
        return -1  # unbounded (the command line, a job): nothing to check, no count needed
    count = source.count(min(limits))
    if fmt == "pdf" and count > pdf_max_rows():
        raise ValidationError(MSG_PDF_TOO_MANY % {"cap": pdf_max_rows()})
    if cap is not None and count > cap:
        raise ValidationError(MSG_TOO_MANY % {"what": exporter.label, "cap": cap})
    return count


def write(exporter: Exporter, source: ExportSource, fmt: str) -> tuple[IO[bytes], int]:
    """The rows in ``fmt``: the file (rewound) and the number of rows written."""
    title = str(exporter.label)
    if fmt == "json":
        return tables.write_json(source.records())
    if fmt == "xml":
        return tables.write_xml(
            source.records(), root=exporter.xml_root, record=exporter.xml_record
        )
    if fmt == "csv" and source.columns_by_chunk is not None:
        return tables.write_csv_columns(source.headers, source.columns_by_chunk())
    if fmt == "csv":
        return tables.write_csv(source.headers, source.cells())
    if fmt == "pdf":
        keys = [c.key for c in source.columns]
        picked = [keys.index(k) for k in source.pdf_keys if k in keys] or list(range(len(keys)))
        headers = [source.headers[i] for i in picked]
        rows = ([row[i] for i in picked] for row in source.cells())
        return tables.write_pdf(headers, rows, title=_("%(what)s列表") % {"what": title})
    return tables.write_xlsx(
        source.headers, source.cells(), sheet=title, widths=source.widths, native=True
    )


def write_audited(
    *,
    actor: Any,
    exporter: Exporter,
    source: ExportSource,
    fmt: str,
    meta: RequestMeta | None,
    extra: dict[str, Any] | None = None,
) -> tables.ExportFile:
    """Write the file and its audit entry (who, which list, filters, format, rows)."""
    file, count = write(exporter, source, fmt)
    audit_record(
        actor=actor,
        action=exporter.action,
        object_type=exporter.object_type,
        params={
            "format": fmt,
            "filters": used_filters(source.filters),
            "rows": count,
            **(extra or {}),
        },
        meta=meta,
    )
    return tables.export_file(file, count, prefix=exporter.kind, fmt=fmt)


def _run(
    *,
    actor: Any,
    exporter: Exporter,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None,
    cap: int | None,
) -> tables.ExportFile:
    source = prepare(actor, exporter, params, fmt)
    check_size(exporter, source, fmt, export_max_rows() if cap == -1 else cap)
    return write_audited(actor=actor, exporter=exporter, source=source, fmt=fmt, meta=meta)


def export_run(
    *,
    actor: Any,
    kind: str,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None = None,
    cap: int | None = -1,
) -> tables.ExportFile:
    """The rows of list ``kind`` matching ``params`` in ``actor``'s scope, as a file now.

    ``cap`` bounds the rows (default: GUANXI_EXPORT_MAX_ROWS, what a page may ask for); the
    command line passes None. A PDF is always bounded by GUANXI_EXPORT_PDF_MAX_ROWS."""
    exporter = exporter_get(kind)
    run = audited_refusals(exporter.action)(_run)
    return run(actor=actor, exporter=exporter, params=params, fmt=fmt, meta=meta, cap=cap)


def _request(
    *,
    actor: Any,
    exporter: Exporter,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None,
) -> Any:
    from guanxi.dataio.export_jobs import export_job_create

    source = prepare(actor, exporter, params, fmt)
    count = check_size(exporter, source, fmt, export_max_rows())
    if count > background_rows():
        return export_job_create(
            actor=actor,
            kind=exporter.kind,
            filters=used_filters(source.filters),
            fmt=fmt,
            rows=count,
            meta=meta,
        )
    return write_audited(actor=actor, exporter=exporter, source=source, fmt=fmt, meta=meta)


def export_request(
    *,
    actor: Any,
    kind: str,
    params: Mapping[str, Any],
    fmt: str,
    meta: RequestMeta | None = None,
) -> Any:
    """A page's 导出: the file now (``tables.ExportFile``), or, past
    GUANXI_EXPORT_BACKGROUND_ROWS matching rows, a queued ``ExportJob`` the worker writes."""
    exporter = exporter_get(kind)
    request = audited_refusals(exporter.action)(_request)
    return request(actor=actor, exporter=exporter, params=params, fmt=fmt, meta=meta)
