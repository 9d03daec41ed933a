"""Every read of import batches and saved mappings for the import pages.

A batch belongs to whoever uploaded it; holders of ``dataio.undo_importbatch`` (the people
who may undo anyone's import) see every batch. Anyone else gets "not found", never a
different answer, so batch numbers reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, paginate
from guanxi.dataio import engine
from guanxi.dataio.importers import get_importer, object_types
from guanxi.dataio.models import ImportBatch, ImportMapping, ImportObject, ImportStatus

UNDO_PERM = "dataio.undo_importbatch"
DELETE_MAPPING_PERM = "dataio.delete_importmapping"
IN_PROGRESS = (ImportStatus.VALIDATING, ImportStatus.QUEUED, ImportStatus.RUNNING)
HISTORY_PAGE = 20


def importable_types(user: Any) -> list[tuple[str, str]]:
    """(object type, label) the user may import: the known importers whose permission they hold."""
    labels = dict(ImportObject.choices)
    return [
        (t, str(labels.get(t, t)))
        for t in object_types()
        if user.is_authenticated and user.has_perm(get_importer(t).permission)
    ]


def import_batch_queryset(user: Any) -> QuerySet:
    if not getattr(user, "is_authenticated", False):
        return ImportBatch.objects.none()
    batches = ImportBatch.objects.select_related("created_by")
    return batches if user.has_perm(UNDO_PERM) else batches.filter(created_by=user)


def import_batch_get(*, user: Any, pk: Any) -> ImportBatch:
    """One batch the user may see, or NotFound."""
    try:
        return import_batch_queryset(user).get(pk=int(pk))
    except (ImportBatch.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def import_batch_history(*, user: Any, cursor: str | None = None) -> Page:
    """The user's batches (every batch for undo holders), newest first, a page at a time."""
    # The preview (up to 100 rows of every column) is for the batch page only.
    batches = import_batch_queryset(user).defer("preview", "headers", "mapping", "failure")
    return paginate(batches, ordering="-id", cursor=cursor, limit=HISTORY_PAGE)


def import_mapping_list(user: Any) -> list[ImportMapping]:
    """Saved mappings of the object types the user may import (they are shared by name)."""
    types = [t for t, _label in importable_types(user)]
    return list(ImportMapping.objects.filter(object_type__in=types).select_related("created_by"))


def import_mapping_get(*, user: Any, pk: Any) -> ImportMapping:
    try:
        types = [t for t, _label in importable_types(user)]
        return ImportMapping.objects.get(pk=int(pk), object_type__in=types)
    except (ImportMapping.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound() from exc


def is_interrupted(batch: ImportBatch) -> bool:
    """Stopped part-way: marked so, failed, or running with a silent worker."""
    return batch.status in (ImportStatus.INTERRUPTED, ImportStatus.FAILED) or engine.is_stale(batch)


def is_in_progress(batch: ImportBatch) -> bool:
    return batch.status in IN_PROGRESS and not engine.is_stale(batch)


@dataclass(frozen=True)
class Progress:
    """How far a pass is, read from the batch alone (so a reloaded page shows the same)."""

    done: int
    total: int | None
    percent: int
    rate: float | None  # rows per second of this run (or resume)
    seconds_left: int | None


def progress_of(batch: ImportBatch, now: Any = None) -> Progress:
    total = batch.total_rows
    done = batch.rows_done
    percent = min(100, int(done * 100 / total)) if total else (100 if total == 0 else 0)
    rate = seconds_left = None
    if batch.started_at:
        elapsed = ((now or timezone.now()) - batch.started_at).total_seconds()
        moved = done - batch.started_rows
        if elapsed > 0 and moved > 0:
            rate = moved / elapsed
            if total is not None:
                seconds_left = max(0, round((total - done) / rate))
    return Progress(done=done, total=total, percent=percent, rate=rate, seconds_left=seconds_left)
