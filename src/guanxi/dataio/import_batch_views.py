"""The page of one import batch (progress, dry-run preview, result) and its actions.

The page reads only the batch, so it shows the same after a reload, on another device or
after the worker restarted; while a pass runs, a small partial is polled every second and
asks the page to reload itself (HX-Refresh) once the pass has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, PermissionDenied, error_text
from guanxi.dataio import import_selectors as sel
from guanxi.dataio import import_services
from guanxi.dataio.error_report import error_report_download
from guanxi.dataio.import_views import batch_or_404
from guanxi.dataio.importers import get_importer
from guanxi.dataio.models import ImportBatch, ImportStatus
from guanxi.dataio.tables import CONTENT_TYPES

ACTION_LABELS = {
    "create": _("新建"),
    "update": _("更新"),
    "skip": _("跳过"),
    "error": _("错误"),
}
ACTION_BADGES = {
    "create": "text-bg-success",
    "update": "text-bg-primary",
    "skip": "text-bg-secondary",
    "error": "text-bg-danger",
}
MSG_STARTED = _("已开始导入")
MSG_RESUMED = _("已从第 %(row)s 行之后继续导入")
MSG_RESTARTED = _("已清除上次写入的记录，正在重新导入")
MSG_UNDONE = _("已撤销本次导入：删除 %(removed)s 条新建记录，恢复 %(restored)s 条更新的记录")


def _preview(batch: ImportBatch) -> list[dict[str, Any]]:
    """The dry run's first rows, cell by cell, with each bad cell's messages beside it."""
    width = len(batch.headers)
    rows = []
    for item in batch.preview or []:
        cells = list(item.get("cells") or [])[:width]
        cells += [""] * (width - len(cells))
        errors = item.get("errors") or {}
        rows.append(
            {
                "row": item.get("row"),
                "cells": [
                    {"value": v, "errors": errors.get(str(i), [])} for i, v in enumerate(cells)
                ],
                "general": item.get("general") or [],
                "note": item.get("note") or "",
                "action": ACTION_LABELS.get(item.get("action"), item.get("action") or ""),
                "badge": ACTION_BADGES.get(item.get("action"), "text-bg-light"),
            }
        )
    return rows


def _columns(batch: ImportBatch) -> list[dict[str, Any]]:
    labels = {s.name: str(s.label) for s in get_importer(batch.object_type).field_specs()}
    return [
        {"header": h, "field": labels.get(batch.mapping.get(str(i), ""), "")}
        for i, h in enumerate(batch.headers)
    ]


def _page_context(batch: ImportBatch) -> dict[str, Any]:
    deadline = import_services.undo_deadline(batch)
    done = batch.status == ImportStatus.DONE
    context: dict[str, Any] = {
        "batch": batch,
        "in_progress": sel.is_in_progress(batch),
        "interrupted": sel.is_interrupted(batch),
        "progress": sel.progress_of(batch),
        "undo_deadline": deadline,
        "can_undo": done and deadline is not None and timezone.now() <= deadline,
        "has_issues": batch.issues.exists(),
    }
    if batch.status == ImportStatus.VALIDATED:
        dry = batch.dry_run or {}
        context.update(
            columns=_columns(batch),
            preview=_preview(batch),
            dry_counts=[
                (_("将新建"), dry.get("create", 0), "text-success"),
                (_("将更新"), dry.get("update", 0), "text-primary"),
                (_("将跳过"), dry.get("skip", 0), "text-secondary"),
                (_("有错误"), dry.get("errors", 0), "text-danger"),
                (_("疑似重复"), dry.get("flagged", 0), "text-warning"),
            ],
        )
    if done:
        context["done_counts"] = [
            (_("总行数"), batch.rows_done, ""),
            (_("新建"), batch.created_count, "text-success"),
            (_("更新"), batch.updated_count, "text-primary"),
            (_("跳过"), batch.skipped_count, "text-secondary"),
            (_("错误"), batch.error_count, "text-danger"),
            (_("疑似重复"), batch.flagged_count, "text-warning"),
        ]
    if done and batch.object_type == "customer" and batch.created_count:
        context["records_url"] = f"{reverse('customers:list')}?import_batch={batch.pk}"
    return context


@login_required
@require_GET
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = batch_or_404(request, pk)
    return render(request, "dataio/import_batch.html", _page_context(batch))


@login_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled progress bar; once the pass has ended the page reloads to its final view."""
    batch = batch_or_404(request, pk)
    in_progress = sel.is_in_progress(batch)
    if getattr(request, "htmx", False) and not in_progress:
        # 286 tells htmx to stop polling; HX-Refresh reloads the page into its final view.
        response = HttpResponse(status=286)
        response["HX-Refresh"] = "true"
        return response
    context = {"batch": batch, "progress": sel.progress_of(batch), "in_progress": in_progress}
    return render(request, "dataio/_import_progress.html", context)


def _act(
    request: HttpRequest, pk: int, run: Callable[..., Any], done: Callable[[Any], str]
) -> HttpResponse:
    batch = batch_or_404(request, pk)
    try:
        result = run(actor=request.user, batch=batch, meta=RequestMeta.from_request(request))
        messages.success(request, done(result if result is not None else batch))
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except DomainError as exc:
        messages.error(request, error_text(exc))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("imports:batch", pk=batch.pk)


@login_required
@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, import_services.import_start, lambda _b: str(MSG_STARTED))


@login_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        import_services.import_resume,
        lambda b: str(MSG_RESUMED % {"row": b.last_row}),
    )


@login_required
@require_POST
def import_restart(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, import_services.import_restart, lambda _b: str(MSG_RESTARTED))


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, import_services.import_undo, lambda r: str(MSG_UNDONE % r))


@login_required
@require_GET
def import_error_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The rows to fix and every issue, as XLSX (audited: it holds the file's values)."""
    batch = batch_or_404(request, pk)
    file, name = error_report_download(
        actor=request.user, batch=batch, meta=RequestMeta.from_request(request)
    )
    return FileResponse(file, as_attachment=True, filename=name, content_type=CONTENT_TYPES["xlsx"])
