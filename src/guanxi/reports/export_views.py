"""Report downloads: ``/reports/export/<key>/?format=xlsx|pdf&<the report's own query>``.

Thin: the service checks the rights (a refusal is audited), builds the report in the caller's
scope and writes the file. An unknown report is 404; a bad format or bad parameters answer 422
with a page that says what to change, never a server error.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.reports.export_service import report_export


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(m) for errors in exc.error_dict.values() for e in errors for m in e.messages]
    return [str(m) for m in exc.messages]


@login_required
@require_GET
def export_report(request: HttpRequest, key: str) -> HttpResponse:
    """The report ``key`` as filtered in the query string, as an Excel or PDF download."""
    try:
        file = report_export(
            actor=request.user,
            key=key,
            params=request.GET,
            fmt=request.GET.get("format", "xlsx"),
            meta=RequestMeta.from_request(request),
        )
    except NotFound as exc:
        raise Http404() from exc
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except ValidationError as exc:
        context = {"errors": _messages(exc), "key": key, "back": _back(request)}
        return render(request, "reports/export_error.html", context, status=422)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = _attachment(file.filename, f"report-{key}")
    response["X-Export-Rows"] = str(file.rows)
    return response


def _back(request: HttpRequest) -> str:
    """The page the export was asked from, when it is one of ours."""
    referer = request.META.get("HTTP_REFERER") or ""
    safe = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
    return referer if safe else ""


def _attachment(filename: str, fallback: str) -> str:
    """A Content-Disposition that keeps a Chinese file name (RFC 6266 filename*), with an
    ASCII name (``report-<key>-<time>.<ext>``) for clients that only read ``filename``."""
    from urllib.parse import quote

    stamp = "-".join(filename.rsplit("-", 2)[-2:])  # "20261124-0930.pdf"
    ascii_name = filename if filename.isascii() else f"{fallback}-{stamp}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
