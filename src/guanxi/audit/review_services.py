"""What auditors do with the log: export it and check its integrity. Both are audited.

Reading the log is a selector (``audit.selectors``); exporting is a service because it takes
data out of the system (``audit.export`` records the filters used and the row count), and so
is verifying, which leaves a trace of who checked and what they found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from guanxi.audit import export, selectors
from guanxi.audit.filters import FILTER_KEYS
from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.audit.verify import VerifyResult, verify_chain
from guanxi.core.permissions import require_perm
from guanxi.dataio.tables import ExportFile, export_file

EXPORT_PERM = "audit.export_auditentry"
# A synchronous page request must finish well inside the server timeout; the command line
# (``guanxi audit verify``) has no budget.
PAGE_VERIFY_SECONDS = 20.0


def export_max_rows() -> int:
    return int(getattr(settings, "AUDIT_EXPORT_MAX_ROWS", 100_000))


def used_filters(params: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty filter values as given (what the export entry records)."""
    return {key: str(params.get(key)) for key in FILTER_KEYS if params.get(key)}


@audited_refusals("audit.export")
def audit_export(
    *, actor: Any, params: Mapping[str, Any], fmt: str, meta: RequestMeta | None = None
) -> ExportFile:
    """The entries matching ``params`` (newest first, up to the cap) as a CSV or XLSX file."""
    require_perm(actor, EXPORT_PERM)
    if fmt not in export.WRITERS:
        raise ValidationError({"format": [_("导出格式只能是 csv 或 xlsx")]})
    filterset = selectors.audit_filter(actor, params)
    if not filterset.is_valid():
        raise ValidationError(
            {k: [str(m) for m in v] for k, v in filterset.errors.items()}, code="invalid"
        )
    cap = export_max_rows()
    # One more than the cap tells whether the file was cut short, without counting.
    entries = selectors.audit_iter(filterset.qs, limit=cap + 1)
    rows_seen = {"n": 0}

    def capped() -> Any:
        for entry in entries:
            rows_seen["n"] += 1
            if rows_seen["n"] > cap:
                return
            yield entry

    file, rows = export.WRITERS[fmt](capped())
    truncated = rows_seen["n"] > cap
    audit_record(
        actor=actor,
        action="audit.export",
        object_type="auditentry",
        params={
            "format": fmt,
            "filters": used_filters(params),
            "rows": rows,
            "truncated": truncated,
        },
        meta=meta,
    )
    return export_file(file, rows, prefix="audit-log", fmt=fmt, truncated=truncated)


@audited_refusals("audit.verify")
def audit_verify(
    *,
    actor: Any,
    meta: RequestMeta | None = None,
    time_budget: float | None = PAGE_VERIFY_SECONDS,
) -> VerifyResult:
    """Run the chain check for a person; a broken chain also alerts every admin."""
    require_perm(actor, selectors.VIEW_PERM)
    result = verify_chain(time_budget=time_budget)
    audit_record(
        actor=actor,
        action="audit.verify",
        object_type="auditentry",
        object_id=result.entry_id or "",
        params={
            "ok": result.ok,
            "complete": result.complete,
            "checked": result.checked,
            "problem": result.problem,
            "entry_id": result.entry_id,
            "last_id": result.last_id,
            "seconds": round(result.elapsed, 3),
        },
        meta=meta,
    )
    if not result.ok:
        _alert_admins(result)
    return result


def _alert_admins(result: VerifyResult) -> None:
    from django.urls import reverse

    from guanxi.audit.models import AuditEntry
    from guanxi.workflow.models import NotificationLevel
    from guanxi.workflow.notifications import admins, notify

    named = result.entry_id and AuditEntry.objects.filter(pk=result.entry_id).exists()
    notify(
        admins(),
        kind="audit.tampered",
        title=_("安全告警：审计日志完整性校验失败"),
        body=str(result.message),
        url=reverse("audit:detail", args=[result.entry_id]) if named else reverse("audit:list"),
        level=NotificationLevel.ALERT,
    )
