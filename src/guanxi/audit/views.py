"""系统设置 → 审计日志: search the log, open one entry, export, check integrity.

Thin: reads through audit.selectors, export and verify through audit.review_services; each
decides the permission (``audit.view_auditentry`` / ``audit.export_auditentry``), and a
refusal from them is this module's 403.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.audit import review_services, selectors
from guanxi.audit.actions import OBJECT_TYPE_LABELS, action_label, object_type_label
from guanxi.audit.filters import FILTER_KEYS, known_action_choices
from guanxi.audit.models import AuditEntry
from guanxi.audit.services import RequestMeta, entry_digest
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.core.list_pages import page_or_first, render_list

PAGE_SIZE = 50
TABLE_TARGET = "audit-table"
MSG_EXPORT_INVALID = _("导出失败：%(errors)s")
RESULT_BADGES = {
    "success": "text-bg-success",
    "denied": "text-bg-warning",
    "failed": "text-bg-danger",
}
EMPTY = "—"


def _styled_form(filterset: Any, params: Any) -> forms.Form:
    """The filter set's own form with Bootstrap widgets (and the action as a select)."""
    form = filterset.form
    choices = known_action_choices()
    current = params.get("action", "")
    if current and current not in dict(choices):
        choices.append((current, current))
    form.fields["action"].widget = forms.Select(choices=choices)
    for name in ("occurred_from", "occurred_to"):
        form.fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    form.fields["object_type"].widget.attrs["list"] = "audit-object-types"
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", f"{css} form-control-sm")
        if css == "form-select":
            field.widget.attrs["class"] = "form-select form-select-sm"
    return form


def entry_rows(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "entry": e,
            "action": action_label(e.action),
            "object_type": object_type_label(e.object_type) if e.object_type else "",
            "badge": RESULT_BADGES.get(e.result, "text-bg-light"),
        }
        for e in entries
    ]


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """Filters, newest first, keyset pages; htmx swaps only the table."""
    params = request.GET
    try:
        filterset = selectors.audit_filter(request.user, params)
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    page = page_or_first(
        request, selectors.audit_list, user=request.user, params=params, limit=PAGE_SIZE
    )
    context = {
        "rows": entry_rows(page.items),
        "page": page,
        "filter_errors": filterset.errors if not filterset.is_valid() else {},
        "table_target": f"#{TABLE_TARGET}",
        "filters": {k: params[k] for k in FILTER_KEYS if params.get(k)},
        "page_size": PAGE_SIZE,
    }
    return render_list(
        request,
        context,
        target=TABLE_TARGET,
        table_template="audit/_table.html",
        page_template="audit/list.html",
        page_extras=lambda: {
            "form": _styled_form(filterset, params),
            "object_types": sorted(OBJECT_TYPE_LABELS.items()),
        },
    )


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) if value else ""


def _cell(value: Any) -> str:
    if value in (None, "", [], {}):
        return EMPTY
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def change_rows(changes: Any) -> list[tuple[str, str, str]]:
    """``{field: [before, after]}`` as (field, before, after); other shapes as (key, —, value)."""
    if not isinstance(changes, dict):
        return [("", EMPTY, _cell(changes))] if changes else []
    rows = []
    for field, value in changes.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            rows.append((field, _cell(value[0]), _cell(value[1])))
        elif isinstance(value, dict) and set(value) == {"before", "after"}:
            rows.append((field, _cell(value["before"]), _cell(value["after"])))
        else:
            rows.append((field, EMPTY, _cell(value)))
    return rows


@login_required
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry: everything it holds, its diff as a table, and whether its hash still fits."""
    try:
        entry = selectors.audit_get(user=request.user, pk=pk)
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except NotFound as exc:
        raise Http404() from exc
    context = {
        "entry": entry,
        "action": action_label(entry.action),
        "object_type": object_type_label(entry.object_type) if entry.object_type else "",
        "badge": RESULT_BADGES.get(entry.result, "text-bg-light"),
        "changes": change_rows(entry.changes),
        "params_text": _json_text(entry.params),
        "hash_ok": entry_digest(entry) == entry.entry_hash,
        "back_url": request.GET.get("back", "") if _is_list_url(request.GET.get("back")) else "",
    }
    return render(request, "audit/detail.html", context)


def _is_list_url(value: str | None) -> bool:
    """Only our own list URL is used for the "back" link (never an open redirect)."""
    base = reverse("audit:list")
    return bool(value) and (value == base or value.startswith(base + "?"))


@login_required
@require_POST
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered entries as CSV or XLSX (needs ``audit.export_auditentry``; audited).

    The permission is checked by the service, so a refused export is audited too."""
    fmt = request.POST.get("format", "csv")
    try:
        result = review_services.audit_export(
            actor=request.user,
            params=request.POST,
            fmt=fmt,
            meta=RequestMeta.from_request(request),
        )
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except ValidationError as exc:
        errors = "；".join(m for msgs in exc.message_dict.values() for m in msgs)
        messages.error(request, MSG_EXPORT_INVALID % {"errors": errors})
        filters = {k: request.POST[k] for k in FILTER_KEYS if request.POST.get(k)}
        return redirect(f"{reverse('audit:list')}?{urlencode(filters)}")
    response = FileResponse(
        result.file, as_attachment=True, filename=result.filename, content_type=result.content_type
    )
    response["X-Export-Rows"] = str(result.rows)
    return response


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Run the integrity check now and show what it found (the run itself is audited, and so
    is a refusal: the service checks the permission)."""
    try:
        result = review_services.audit_verify(
            actor=request.user, meta=RequestMeta.from_request(request)
        )
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    context = {"result": result, "entry_exists": _entry_exists(result.entry_id)}
    if getattr(request, "htmx", None):
        return render(request, "audit/_verify_result.html", context)
    return render(request, "audit/verify.html", context)


def _entry_exists(pk: int | None) -> bool:
    return bool(pk) and AuditEntry.objects.filter(pk=pk).exists()
