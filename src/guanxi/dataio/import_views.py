"""数据导入 pages: start an import (upload), map its columns, saved mappings, templates.

Thin: import_services decide and audit; import_selectors read. The batch page and its
actions are in import_batch_views.
"""

from __future__ import annotations

import itertools
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.audit.services import RequestMeta
from guanxi.core.errors import DomainError, NotFound, PermissionDenied, error_text
from guanxi.core.list_pages import page_or_first
from guanxi.dataio import engine, import_selectors, import_services
from guanxi.dataio.import_mapping_services import import_mapping_delete
from guanxi.dataio.import_templates import template_file
from guanxi.dataio.importers import get_importer
from guanxi.dataio.models import DedupeMode, ImportBatch, ImportStatus
from guanxi.dataio.readers import UploadRejected, iter_rows
from guanxi.dataio.tables import CONTENT_TYPES

MSG_NO_FILE = _("请选择要导入的文件（.csv 或 .xlsx）")
MSG_PICK_AGAIN = _("请重新选择文件后再上传")
MSG_MAPPING_DELETED = _("映射模板“%(name)s”已删除")
MSG_TEMPLATE_NAME = _("%(type)s导入模板")
MSG_NOT_MAPPABLE = _("该导入已开始或已结束，不能再修改映射")
SAMPLE_ROWS = 3
DEDUPE_HELP = {
    DedupeMode.SKIP: _("与已有记录重复的行不导入，在错误报告中列出"),
    DedupeMode.UPDATE: _("用文件中的非空值更新匹配到的已有记录（可撤销）"),
    DedupeMode.CREATE: _("照常新建，并标记为疑似重复，稍后在“重复客户”中合并"),
}


class UploadForm(forms.Form):
    """Shape only; import_upload checks the file by its content."""

    object_type = forms.ChoiceField(label=_("导入对象"))
    file = forms.FileField(
        label=_("文件"),
        error_messages={"required": MSG_NO_FILE, "empty": MSG_NO_FILE},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    mapping = forms.CharField(label=_("映射模板"), required=False, max_length=64)

    def __init__(self, *args: Any, types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = types


def _types_or_403(request: HttpRequest) -> list[tuple[str, str]]:
    types = import_selectors.importable_types(request.user)
    if not types:
        raise HttpForbidden()
    return types


def batch_or_404(request: HttpRequest, pk: int) -> ImportBatch:
    try:
        return import_selectors.import_batch_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc


@login_required
@require_http_methods(["GET", "POST"])
def import_home(request: HttpRequest) -> HttpResponse:
    """数据导入: the upload card, then the import history and the saved mappings."""
    types = _types_or_403(request)
    form = UploadForm(request.POST or None, request.FILES or None, types=types)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = import_services.import_upload(
                    actor=request.user,
                    object_type=form.cleaned_data["object_type"],
                    source=form.cleaned_data["file"],
                    file_name=form.cleaned_data["file"].name,
                    mapping_name=form.cleaned_data["mapping"] or None,
                    meta=RequestMeta.from_request(request),
                )
                return redirect("imports:mapping", pk=batch.pk)
            except UploadRejected as exc:
                form.add_error("file", str(exc.message))
            except ValidationError as exc:
                for field, field_messages in exc.message_dict.items():
                    target = "file" if field in ("__all__", "source") else field
                    form.add_error(target if target in form.fields else None, field_messages)
            except PermissionDenied as exc:
                raise HttpForbidden() from exc
        status = 422
    page = page_or_first(request, import_selectors.import_batch_history, user=request.user)
    context = {
        "form": form,
        "types": types,
        "picked_type": form["object_type"].value() or types[0][0],
        "picked_mapping": form["mapping"].value() or "",
        "pick_again": request.method == "POST",
        "page": page,
        "show_owner": request.user.has_perm(import_selectors.UNDO_PERM),
        "mappings": import_selectors.import_mapping_list(request.user),
        "msg_pick_again": MSG_PICK_AGAIN,
    }
    return render(request, "dataio/import_home.html", context, status=status)


def _samples(batch: ImportBatch) -> list[list[str]]:
    """The first values of each column, to recognise it by (none if the file is unreadable)."""
    columns: list[list[str]] = [[] for _h in batch.headers]
    try:
        info = engine.table_info(batch)
        rows = iter_rows(info, engine.batch_dir(batch))
        for _number, cells in itertools.islice(rows, SAMPLE_ROWS):
            for i, column in enumerate(columns):
                column.append(cells[i] if i < len(cells) else "")
    except (UploadRejected, OSError):
        pass
    return columns


def _mapping_rows(batch: ImportBatch, chosen: dict[str, str]) -> list[dict[str, Any]]:
    samples = _samples(batch)
    return [
        {"index": str(i), "header": header, "samples": samples[i], "field": chosen.get(str(i), "")}
        for i, header in enumerate(batch.headers)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Which column feeds which field, how duplicates are handled; then the dry run."""
    batch = batch_or_404(request, pk)
    if batch.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATED):
        messages.info(request, MSG_NOT_MAPPABLE)
        return redirect("imports:batch", pk=batch.pk)
    specs = list(get_importer(batch.object_type).field_specs())
    chosen, dedupe, save_as = dict(batch.mapping), batch.dedupe, ""
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        chosen = {str(i): request.POST.get(f"map-{i}", "") for i in range(len(batch.headers))}
        dedupe = request.POST.get("dedupe", "")
        save_as = request.POST.get("save_as", "")
        meta = RequestMeta.from_request(request)
        try:
            import_services.import_configure(
                actor=request.user,
                batch=batch,
                mapping_data=chosen,
                dedupe=dedupe,
                save_as=save_as,
                meta=meta,
            )
            import_services.import_validate(actor=request.user, batch=batch, meta=meta)
            return redirect("imports:batch", pk=batch.pk)
        except ValidationError as exc:
            errors = [str(m) for ms in exc.message_dict.values() for m in ms]
        except DomainError as exc:
            errors = [error_text(exc)]
        status = 422
    context = {
        "batch": batch,
        "rows": _mapping_rows(batch, chosen),
        "specs": specs,
        "dedupe": dedupe,
        "dedupe_modes": [(v, label, DEDUPE_HELP[v]) for v, label in DedupeMode.choices],
        "save_as": save_as,
        "errors": errors,
    }
    return render(request, "dataio/import_mapping.html", context, status=status)


@login_required
@require_POST
def import_mapping_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a saved mapping (its author, or holders of the delete permission)."""
    try:
        saved = import_selectors.import_mapping_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404() from exc
    try:
        import_mapping_delete(
            actor=request.user, mapping=saved, meta=RequestMeta.from_request(request)
        )
        messages.success(request, MSG_MAPPING_DELETED % {"name": saved.name})
    except DomainError as exc:
        messages.error(request, error_text(exc))
    return redirect("imports:home")


@login_required
@require_GET
def import_template(request: HttpRequest, object_type: str) -> HttpResponse:
    """The template workbook of an object type the user may import."""
    labels = dict(_types_or_403(request))
    if object_type not in labels:
        raise Http404()
    return FileResponse(
        template_file(object_type),
        as_attachment=True,
        filename=f"{MSG_TEMPLATE_NAME % {'type': labels[object_type]}}.xlsx",
        content_type=CONTENT_TYPES["xlsx"],
    )
