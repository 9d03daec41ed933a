"""The background worker's shared pieces: which huey storage settings pick, crontab
schedules read in the configured time zone, and the logging wrapper every periodic job
body runs inside.

huey matches a crontab against the consumer's clock, which is naive UTC by default
(``utc=True``); a bare ``crontab(hour=8)`` would fire at 16:00 in Shanghai. ``local_crontab``
converts that timestamp to ``settings.TIME_ZONE`` before matching, so "08:00" means 08:00
where the users are, whatever the machine's own time zone.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

logger = logging.getLogger("guanxi.worker")


def huey_settings(*, redis_url: str, data_dir: Path, immediate: bool) -> dict[str, Any]:
    """The ``HUEY`` setting: SqliteHuey in its own file under the data dir by default,
    RedisHuey when ``REDIS_URL`` is set; ``immediate`` runs enqueued tasks inline (tests)."""
    config: dict[str, Any] = {
        "name": "guanxi",
        "immediate": immediate,
        "utc": True,
        "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
    }
    if redis_url:
        config.update(huey_class="huey.RedisHuey", connection={"url": redis_url})
    else:
        config.update(
            huey_class="huey.SqliteHuey",
            connection={"filename": str(data_dir / "huey.sqlite3")},
        )
    return config


def local_crontab(**fields: Any) -> Callable[[dt.datetime], bool]:
    """``huey.crontab(**fields)`` matched against local time in ``settings.TIME_ZONE``.

    The returned function keeps the crontab fields in ``.fields`` (for tests and docs).
    """
    from django.conf import settings
    from huey import crontab

    matches = crontab(**fields)

    def validate(timestamp: dt.datetime) -> bool:
        if timestamp.tzinfo is None:  # huey hands naive UTC (utc=True)
            timestamp = timestamp.replace(tzinfo=dt.UTC)
        return matches(timestamp.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None))

    validate.fields = fields  # type: ignore[attr-defined]
    return validate


def run_job(name: str, body: Callable[[], Any]) -> Any:
    """Run one periodic job body with a log line for its start, end and failure.

    A failure is logged with its traceback and re-raised, so huey retries the task when
    it was declared with retries (and logs the final failure itself).
    """
    started = time.monotonic()
    logger.info("job %s started", name)
    try:
        result = body()
    except Exception:
        logger.exception("job %s failed after %.1fs", name, time.monotonic() - started)
        raise
    logger.info("job %s done in %.1fs: %s", name, time.monotonic() - started, result)
    return result
