"""Export downloads and 我的导出. Thin: the service checks the permission (so a refusal is
audited), applies the list's filters within the user's scope and writes the file, or queues
a background job for a large export."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.dataio import export_jobs
from guanxi.dataio.export_service import export_request, used_filters
from guanxi.dataio.exporters import EXPORTERS, describe_filters, exporter_get
from guanxi.dataio.models import ExportJob, ExportStatus

MSG_EXPORT_FAILED = _("导出失败：%(errors)s")
MSG_QUEUED = _(
    "符合条件的记录较多（%(rows)s 条），已转为后台导出；文件生成后会通知您，也可在本页下载。"
)
JOBS_TARGET = "export-jobs"


@login_required
@require_POST
def export_list(request: HttpRequest, kind: str = "customers") -> HttpResponse:
    """A list as filtered on its page, in the posted format (audited); a large one is
    queued and the user is sent to 我的导出."""
    try:
        exporter = exporter_get(kind)
        result = export_request(
            actor=request.user,
            kind=kind,
            params=request.POST,
            fmt=request.POST.get("format", "xlsx"),
            meta=RequestMeta.from_request(request),
        )
    except NotFound as exc:
        raise Http404() from exc
    except PermissionDenied as exc:
        raise HttpForbidden() from exc
    except ValidationError as exc:
        messages.error(request, MSG_EXPORT_FAILED % {"errors": "；".join(exc.messages)})
        query = urlencode(used_filters(request.POST))
        return redirect(f"{reverse(exporter.list_url)}?{query}")
    if isinstance(result, ExportJob):
        messages.info(request, MSG_QUEUED % {"rows": result.rows})
        return redirect("dataio:export_jobs")
    response = FileResponse(
        result.file, as_attachment=True, filename=result.filename, content_type=result.content_type
    )
    response["X-Export-Rows"] = str(result.rows)
    return response


@login_required
@require_GET
def export_job_list(request: HttpRequest) -> HttpResponse:
    """我的导出: the user's background exports with status and download links; the table
    refreshes itself (htmx) while a job is still being written."""
    jobs = list(export_jobs.export_job_list(user=request.user))
    for job in jobs:
        exporter = EXPORTERS.get(job.object_type)
        job.kind_label = exporter.label if exporter else job.object_type
        job.filter_text = "，".join(describe_filters(job.object_type, job.params or {}))
    context = {
        "jobs": jobs,
        "pending": any(j.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for j in jobs),
        "keep_days": export_jobs.keep_days(),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == JOBS_TARGET and not htmx.history_restore_request:
        return render(request, "dataio/_export_jobs_table.html", context)
    return render(request, "dataio/export_jobs.html", context)


@login_required
@require_GET
def export_job_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file of one of the user's finished jobs; anyone else's job is "not found"."""
    try:
        path, name = export_jobs.export_job_file(
            actor=request.user, pk=pk, meta=RequestMeta.from_request(request)
        )
    except NotFound as exc:
        raise Http404() from exc
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name)
