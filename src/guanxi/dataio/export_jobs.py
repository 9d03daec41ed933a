"""Background exports (我的导出): a page export past GUANXI_EXPORT_BACKGROUND_ROWS rows becomes
a job the worker writes to ``<data dir>/exports/``; its owner is notified with a link and
is the only one who can download it (anyone else gets "not found"). Files are deleted after
GUANXI_EXPORT_KEEP_DAYS days by the nightly ``purge_exports`` job.

Audited: the request (``export_job.create``), the written file (``<object>.export`` with
the job's id, as any export), a refusal or failure, each download and each purge.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.ids import parse_id
from guanxi.dataio.export_service import check_size, prepare, write_audited
from guanxi.dataio.exporters import EXPORTERS, exporter_get
from guanxi.dataio.models import ExportJob, ExportStatus
from guanxi.ops.parameters import system_parameter

logger = logging.getLogger("guanxi.dataio")
EXPORT_DIR = "exports"
STUCK_AFTER = dt.timedelta(days=1)  # a job queued or running this long was lost by a worker
WORKER_META = RequestMeta(user_agent="guanxi worker")
LANGUAGE_KEY = "_language"


def export_root() -> Path:
    return Path(settings.DATA_DIR) / EXPORT_DIR


def keep_days() -> int:
    return int(system_parameter("export_keep_days"))


def export_job_create(
    *,
    actor: Any,
    kind: str,
    filters: dict[str, str],
    fmt: str,
    rows: int,
    meta: RequestMeta | None = None,
) -> ExportJob:
    """Queue an export for the worker (called by export_service after its checks)."""
    exporter = exporter_get(kind)
    with transaction.atomic():
        # ``rows`` holds the count when queued, the rows written once done; the file is
        # written in the language the user asked in.
        params = {**filters, LANGUAGE_KEY: translation.get_language() or settings.LANGUAGE_CODE}
        job = ExportJob.objects.create(
            object_type=kind, fmt=fmt, params=params, rows=rows, created_by=actor
        )
        audit_record(
            actor=actor,
            action="export_job.create",
            object_type="export_job",
            object_id=job.pk,
            object_repr=f"{exporter.label} {fmt}",
            params={"kind": kind, "format": fmt, "filters": filters, "rows": rows},
            meta=meta,
        )
    from guanxi.dataio.export_tasks import export_job_task

    transaction.on_commit(lambda: export_job_task(job.pk))
    return job


def _write(*, actor: Any, job: ExportJob) -> Any:
    exporter = EXPORTERS[job.object_type]
    source = prepare(actor, exporter, job_filters(job), job.fmt)
    check_size(exporter, source, job.fmt, None)  # the page cap was checked when queued
    return write_audited(
        actor=actor,
        exporter=exporter,
        source=source,
        fmt=job.fmt,
        meta=WORKER_META,
        extra={"job": job.pk},
    )


def _store(job: ExportJob, result: Any) -> str:
    """Copy the written file under the data dir (atomically); its path relative to it."""
    relative = Path(EXPORT_DIR) / str(job.created_by_id) / f"{job.pk}-{result.filename}"
    target = Path(settings.DATA_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with result.file, open(partial, "wb") as out:
        shutil.copyfileobj(result.file, out, 1 << 20)
    os.replace(partial, target)
    return str(relative)


def job_filters(job: ExportJob) -> dict[str, Any]:
    """The list filters a job was asked with (without its bookkeeping keys)."""
    return {k: v for k, v in (job.params or {}).items() if not k.startswith("_")}


def export_job_run(job_id: int) -> str:
    """The worker's part: write the file as the job's owner (their scope and masking as of
    now), store it, and tell the owner. Runs once: a job no longer queued is left alone."""
    if not ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING
    ):
        return "skipped"
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    language = (job.params or {}).get(LANGUAGE_KEY) or settings.LANGUAGE_CODE
    with translation.override(language):
        return _run(job)


def _run(job: ExportJob) -> str:
    owner = job.created_by
    label = EXPORTERS[job.object_type].label if job.object_type in EXPORTERS else job.object_type
    try:
        if not owner.is_active:
            raise NotFound()
        write = audited_refusals(EXPORTERS[job.object_type].action)(_write)
        result = write(actor=owner, job=job)
        stored = _store(job, result)
    except (DomainError, ValidationError, KeyError) as exc:
        return _failed(job, label, exc)
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        return _failed(job, label, exc)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        rows=result.rows,
        stored_path=stored,
        file_name=result.filename,
        finished_at=timezone.now(),
    )
    _notify(
        owner,
        _("导出完成：%(what)s，共 %(n)s 条") % {"what": label, "n": result.rows},
        _("文件保留 %(days)s 天，请在“我的导出”中下载。") % {"days": keep_days()},
        reverse("dataio:export_job_download", args=[job.pk]),
    )
    return "done"


def _failed(job: ExportJob, label: Any, exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        reason = "；".join(exc.messages)
    elif isinstance(exc, DomainError):
        reason = f"{exc.message}（{exc.code}）"
    else:
        reason = _("生成文件时出错，请稍后重试或联系管理员")
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.FAILED, failure=reason[:2000], finished_at=timezone.now()
    )
    _notify(
        job.created_by,
        _("导出失败：%(what)s") % {"what": label},
        reason,
        reverse("dataio:export_jobs"),
        level="warning",
    )
    return "failed"


def _notify(user: Any, title: str, body: str, url: str, level: str = "info") -> None:
    from guanxi.workflow.notifications import notify

    notify([user], kind="export", title=title, body=body, url=url, level=level)


# --- reads: a user's own jobs only ------------------------------------------------------


def export_job_list(*, user: Any, limit: int = 100) -> QuerySet:
    """The user's export jobs, newest first (nobody sees another person's jobs)."""
    return ExportJob.objects.filter(created_by=user).order_by("-id")[:limit]


def export_job_file(*, actor: Any, pk: Any, meta: RequestMeta | None = None) -> tuple:
    """The finished file of one of the actor's jobs (its path and download name), audited;
    NotFound for another person's job, an unfinished one, an expired file, or when the
    actor no longer holds the right to export that list."""
    wanted = parse_id(pk)
    job = None
    if wanted is not None:
        job = ExportJob.objects.filter(pk=wanted, created_by=actor).first()
    if job is None or job.status != ExportStatus.DONE or not job.stored_path:
        raise NotFound()
    exporter = EXPORTERS.get(job.object_type)
    if exporter is None or not all(actor.has_perm(p) for p in exporter.perms):
        raise NotFound()
    path = Path(settings.DATA_DIR) / job.stored_path
    if not path.is_file():
        raise NotFound()
    audit_record(
        actor=actor,
        action="export_job.download",
        object_type="export_job",
        object_id=job.pk,
        object_repr=job.file_name,
        params={"kind": job.object_type, "format": job.fmt, "rows": job.rows},
        meta=meta,
    )
    return path, job.file_name


# --- housekeeping -------------------------------------------------------------------------


def purge_expired_exports(now: dt.datetime | None = None) -> int:
    """Delete export files older than GUANXI_EXPORT_KEEP_DAYS (the job rows stay, marked as
    expired) and any stray file left by a crashed write; fail jobs a worker lost."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=keep_days())
    removed = 0
    for job in ExportJob.objects.filter(finished_at__lt=cutoff).exclude(stored_path=""):
        (Path(settings.DATA_DIR) / job.stored_path).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(stored_path="")
        removed += 1
    root = export_root()
    if root.is_dir():
        for path in root.glob("*/*"):
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
            if path.is_file() and modified < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    lost = ExportJob.objects.filter(
        status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING), created_at__lt=now - STUCK_AFTER
    ).update(status=ExportStatus.FAILED, failure=_("后台任务未完成，请重新导出"), finished_at=now)
    if removed or lost:
        audit_record(
            actor=None,
            action="export_job.purge",
            object_type="export_job",
            params={"files": removed, "lost_jobs": lost, "keep_days": keep_days()},
        )
    return removed
