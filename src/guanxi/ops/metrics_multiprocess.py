"""Prometheus multiprocess mode for ``guanxi serve`` with several gunicorn workers.

prometheus_client decides at import time whether metrics live in memory or in files, so the
directory is set before the application (and ``ops.metrics``) is imported, and emptied first:
files left by a previous server would otherwise be summed into the new one's counters.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings


def prepare_multiprocess_dir() -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory under the data dir (unless the
    operator set one) and return it."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(configured) if configured else settings.DATA_DIR / "prometheus"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: a stopped worker's live gauges are dropped (its counters stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
