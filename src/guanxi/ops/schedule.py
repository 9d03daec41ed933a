"""The registry of scheduled jobs: how an app declares a periodic job.

In an app's ``tasks.py``::

    @scheduled_job("purge_exports", title=_("清理过期导出文件"), cron="15 3 * * *")
    def purge_exports_job() -> int:
        from guanxi.dataio.export_jobs import purge_expired_exports
        return purge_expired_exports()

The body is registered under its name with its default schedule (cron in ``TIME_ZONE``);
the worker's minute tick creates the ``ScheduledJob`` row on first sight, after which the
schedule is data an administrator edits. The decorator returns a huey task of the same name
that runs the body once (``job()`` enqueues it, ``job.call_local()`` runs it here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guanxi.core.worker import run_job

ERR_CRON = _("Cron 表达式无效：需要 5 个字段（分 时 日 月 周），例如 “30 2 * * *”。")


@dataclass(frozen=True)
class JobSpec:
    """A registered job body and its default schedule and retry policy."""

    name: str
    title: Any
    cron: str
    body: Callable[[], Any]
    retries: int = 2
    retry_delay: int = 60


_REGISTRY: dict[str, JobSpec] = {}


def register_job(spec: JobSpec) -> JobSpec:
    """Add (or replace, on reload) a job; the cron default is checked here, at import."""
    validate_cron(spec.cron)
    _REGISTRY[spec.name] = spec
    return spec


def scheduled_job(
    name: str, *, title: Any, cron: str, retries: int = 2, retry_delay: int = 60
) -> Callable[[Callable[[], Any]], Any]:
    """Decorator: register ``body`` as job ``name`` and return its one-shot huey task."""
    from huey.contrib.djhuey import db_task

    def decorate(body: Callable[[], Any]) -> Any:
        register_job(JobSpec(name, title, cron, body, retries, retry_delay))

        def run_once() -> Any:
            return run_job(name, body)

        run_once.__doc__ = body.__doc__
        run_once.__name__ = body.__name__
        run_once.__module__ = body.__module__
        return db_task(retries=retries, retry_delay=retry_delay, name=name)(run_once)

    return decorate


def registered_jobs() -> dict[str, JobSpec]:
    """Every registered job, after loading each app's ``tasks.py`` (where jobs register)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return dict(_REGISTRY)


def validate_cron(expression: str) -> str:
    """The expression, normalised to single spaces, or a ValidationError naming the rule."""
    text = " ".join((expression or "").split())
    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise ValidationError({"cron": ERR_CRON}, code="invalid_cron")
    return text


def next_run(expression: str, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that the expression matches, read in the
    configured time zone (``0 8 * * *`` is 08:00 where the users are), returned in UTC."""
    local = after.astimezone(ZoneInfo(settings.TIME_ZONE))
    following = croniter(expression, local).get_next(dt.datetime)
    return following.astimezone(dt.UTC)
