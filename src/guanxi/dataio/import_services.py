"""Every write to an import batch: upload, mapping, dry run, run, resume, restart, undo.

Each checks the importer's permission, acts within the batch owner's rights and is audited.
The heavy passes run on the worker (dataio.tasks); these services only queue them.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DomainError, PermissionDenied
from guanxi.core.permissions import require_perm
from guanxi.dataio import engine, mapping
from guanxi.dataio.importers import get_importer, object_types
from guanxi.dataio.models import (
    DedupeMode,
    ImportBatch,
    ImportMapping,
    ImportRowIssue,
    ImportStatus,
    ImportUpdate,
)
from guanxi.dataio.readers import UploadRejected, inspect_table
from guanxi.ops.parameters import system_parameter

MSG_OBJECT = _("不支持导入该对象")
MSG_DEDUPE = _("重复处理方式只能是：跳过重复、更新已有记录、新建并标记")
MSG_STATE = _("该导入当前状态为“%(status)s”，不能执行此操作")
MSG_UNDO_EXPIRED = _("导入完成已超过 %(days)s 天，不能再撤销")
MSG_NOT_YOURS = _("只能操作自己发起的导入")
MSG_MAPPING_NAME = _("请填写映射模板名称（不超过64字）")

UNDO_PERM = "dataio.undo_importbatch"


class ImportStateError(DomainError):
    """The batch is not in a state that allows the action (ERR-025)."""

    code = "ERR-025"


def _importer(object_type: str) -> Any:
    if object_type not in object_types():
        raise ValidationError({"object_type": [MSG_OBJECT]})
    return get_importer(object_type)


def _own(actor: Any, batch: ImportBatch) -> None:
    if batch.created_by_id != actor.pk and not actor.has_perm(UNDO_PERM):
        raise PermissionDenied(MSG_NOT_YOURS)


def _state(batch: ImportBatch, *allowed: str) -> None:
    if batch.status not in allowed:
        raise ImportStateError(MSG_STATE % {"status": batch.get_status_display()})


def _store(source: IO[bytes] | Path, name: str) -> tuple[str, str, int]:
    """Copy the upload under the data dir (bounded by size while copying); returns the
    relative path, its SHA-256 and its size."""
    folder = Path("imports") / timezone.localtime().strftime("%Y%m") / uuid.uuid4().hex
    target_dir = Path(settings.DATA_DIR) / folder
    target_dir.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix.lower()[:8]
    target = target_dir / f"upload{suffix}"
    digest = hashlib.sha256()
    limit = int(settings.GUANXI_IMPORT_MAX_BYTES)
    size = 0
    opened = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
    try:
        with open(target, "wb") as out:
            while block := opened.read(1024 * 1024):
                size += len(block)
                if size > limit:
                    out.close()
                    shutil.rmtree(target_dir, ignore_errors=True)
                    raise UploadRejected(
                        "too_big",
                        _("文件超过 %(mb)s MB 的上限") % {"mb": limit // (1024 * 1024)},
                    )
                digest.update(block)
                out.write(block)
    finally:
        if isinstance(source, Path):
            opened.close()
    return str(folder / target.name), digest.hexdigest(), size


@audited_refusals("import.upload")
def import_upload(
    *,
    actor: Any,
    object_type: str,
    source: IO[bytes] | Path,
    file_name: str,
    mapping_name: str | None = None,
    meta: RequestMeta | None = None,
) -> ImportBatch:
    """Keep the file, check it is a table within the bounds, read its header and suggest a
    mapping (a saved mapping's first when named). Raises UploadRejected for a bad file."""
    importer = _importer(object_type)
    require_perm(actor, importer.permission)
    stored, sha, size = _store(source, file_name)
    try:
        info = inspect_table(Path(settings.DATA_DIR) / stored)
    except UploadRejected:
        shutil.rmtree((Path(settings.DATA_DIR) / stored).parent, ignore_errors=True)
        raise
    saved = None
    if mapping_name:
        saved = ImportMapping.objects.filter(object_type=object_type, name=mapping_name).first()
        if saved is None:
            raise ValidationError(
                {"mapping": [_("找不到映射模板“%(name)s”") % {"name": mapping_name}]}
            )
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            object_type=object_type,
            file_name=Path(file_name).name[:255],
            stored_path=stored,
            file_sha256=sha,
            file_size=size,
            file_kind=info.kind,
            encoding=info.encoding,
            sheet_name=info.sheet_name,
            headers=info.headers,
            mapping=mapping.suggest(
                info.headers, importer.field_specs(), saved.mapping if saved else None
            ),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="import.upload",
            obj=batch,
            object_type="import_batch",
            params={
                "object_type": object_type,
                "file": batch.file_name,
                "bytes": size,
                "sha256": sha,
            },
            meta=meta,
        )
    return batch


@audited_refusals("import.configure")
def import_configure(
    *,
    actor: Any,
    batch: ImportBatch,
    mapping_data: Mapping[str, Any],
    dedupe: str,
    save_as: str = "",
    meta: RequestMeta | None = None,
) -> ImportBatch:
    """Set the column mapping and duplicate handling; optionally save the mapping by name."""
    _own(actor, batch)
    _state(batch, ImportStatus.UPLOADED, ImportStatus.VALIDATED)
    importer = get_importer(batch.object_type)
    if dedupe not in DedupeMode.values:
        raise ValidationError({"dedupe": [MSG_DEDUPE]})
    cleaned = mapping.clean_mapping(mapping_data, batch.headers, importer.field_specs())
    save_as = (save_as or "").strip()
    if save_as and len(save_as) > 64:
        raise ValidationError({"save_as": [MSG_MAPPING_NAME]})
    with transaction.atomic():
        batch.mapping, batch.dedupe = cleaned, dedupe
        batch.status = ImportStatus.UPLOADED
        batch.save(update_fields=["mapping", "dedupe", "status"])
        if save_as:
            ImportMapping.objects.update_or_create(
                object_type=batch.object_type,
                name=save_as,
                defaults={
                    "mapping": mapping.as_template(cleaned, batch.headers),
                    "created_by": actor,
                },
            )
        audit_record(
            actor=actor,
            action="import.configure",
            obj=batch,
            object_type="import_batch",
            params={"mapping": cleaned, "dedupe": dedupe, "saved_as": save_as},
            meta=meta,
        )
    return batch


def import_validate(*, actor: Any, batch: ImportBatch, meta: RequestMeta | None = None) -> None:
    """Queue the dry run."""
    _own(actor, batch)
    _state(batch, ImportStatus.UPLOADED, ImportStatus.VALIDATED)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.VALIDATING, rows_done=0)
    from guanxi.dataio.tasks import validate_import

    transaction.on_commit(lambda: validate_import(batch.pk))


@audited_refusals("import.start")
def import_start(
    *, actor: Any, batch: ImportBatch, meta: RequestMeta | None = None, queue: bool = True
) -> None:
    """Queue the real run (after a dry run, or straight away from the command line, which
    passes ``queue=False`` and runs ``engine.run_batch`` itself)."""
    _own(actor, batch)
    _state(batch, ImportStatus.UPLOADED, ImportStatus.VALIDATED)
    with transaction.atomic():
        ImportRowIssue.objects.filter(batch=batch).delete()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.QUEUED, rows_done=0, last_row=0, started_rows=0
        )
        audit_record(
            actor=actor, action="import.start", obj=batch, object_type="import_batch", meta=meta
        )
    if queue:
        _queue_run(batch.pk)


def _queue_run(batch_id: int) -> None:
    from guanxi.dataio.tasks import run_import

    transaction.on_commit(lambda: run_import(batch_id))


@audited_refusals("import.resume")
def import_resume(
    *, actor: Any, batch: ImportBatch, meta: RequestMeta | None = None, queue: bool = True
) -> None:
    """Continue a run that stopped (killed worker, failure) after its last whole chunk."""
    _own(actor, batch)
    if not (
        batch.status in (ImportStatus.INTERRUPTED, ImportStatus.FAILED) or engine.is_stale(batch)
    ):
        raise ImportStateError(MSG_STATE % {"status": batch.get_status_display()})
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED)
        audit_record(
            actor=actor,
            action="import.resume",
            obj=batch,
            object_type="import_batch",
            params={"after_row": batch.last_row, "rows_done": batch.rows_done},
            meta=meta,
        )
    if queue:
        _queue_run(batch.pk)


@audited_refusals("import.restart")
def import_restart(
    *, actor: Any, batch: ImportBatch, meta: RequestMeta | None = None, queue: bool = True
) -> None:
    """Remove what a stopped run wrote and run the file again from its first row."""
    _own(actor, batch)
    if not (
        batch.status in (ImportStatus.INTERRUPTED, ImportStatus.FAILED) or engine.is_stale(batch)
    ):
        raise ImportStateError(MSG_STATE % {"status": batch.get_status_display()})
    importer = get_importer(batch.object_type)
    importer.begin(actor=actor, batch=batch)
    with transaction.atomic():
        removed = importer.undo(batch)
        ImportRowIssue.objects.filter(batch=batch).delete()
        ImportUpdate.objects.filter(batch=batch).delete()
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.QUEUED,
            rows_done=0,
            last_row=0,
            started_rows=0,
            created_count=0,
            updated_count=0,
            skipped_count=0,
            error_count=0,
            flagged_count=0,
        )
        audit_record(
            actor=actor,
            action="import.restart",
            obj=batch,
            object_type="import_batch",
            params=removed,
            meta=meta,
        )
    if queue:
        _queue_run(batch.pk)


def undo_deadline(batch: ImportBatch) -> Any:
    if batch.finished_at is None:
        return None
    return batch.finished_at + timezone.timedelta(days=int(system_parameter("import_undo_days")))


@audited_refusals("import.undo")
def import_undo(
    *, actor: Any, batch: ImportBatch, meta: RequestMeta | None = None
) -> dict[str, int]:
    """Undo a finished batch as a whole: its new records go, its updates are put back."""
    _own(actor, batch)
    importer = get_importer(batch.object_type)
    require_perm(actor, importer.permission)
    _state(batch, ImportStatus.DONE)
    deadline = undo_deadline(batch)
    if deadline is None or timezone.now() > deadline:
        raise ImportStateError(MSG_UNDO_EXPIRED % {"days": system_parameter("import_undo_days")})
    importer.begin(actor=actor, batch=batch)
    with transaction.atomic():
        result = importer.undo(batch)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.UNDONE, undone_at=timezone.now(), undone_by=actor
        )
        audit_record(
            actor=actor,
            action="import.undo",
            obj=batch,
            object_type="import_batch",
            params=result,
            meta=meta,
        )
    return result
