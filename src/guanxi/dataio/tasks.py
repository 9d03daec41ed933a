"""Import passes on the background worker (thin wrappers around dataio.engine)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task(name="import_validate")
def validate_import(batch_id: int) -> None:
    """The dry run of an uploaded file."""
    from guanxi.dataio.engine import validate_batch

    validate_batch(batch_id)


@db_task(name="import_run")
def run_import(batch_id: int) -> None:
    """The real run (or a resume): chunk by chunk, each chunk committed with its checkpoint."""
    from guanxi.dataio.engine import run_batch

    run_batch(batch_id)


# The export tasks live in their own module; imported here so the worker registers them.
from guanxi.dataio.export_tasks import export_job_task, purge_exports_job  # noqa: E402, F401
