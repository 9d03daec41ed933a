"""Periodic jobs of the customers app, run by ``guanxi worker``: thin wrappers around the
job bodies the management commands of the same names also call."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_periodic_task

from guanxi.core.worker import local_crontab, run_job


@db_periodic_task(
    local_crontab(minute="30", hour="2"), retries=2, retry_delay=600, name="purge_recycle_bin"
)
def purge_recycle_bin_job() -> int:
    """02:30 daily: purge customers past GUANXI_RECYCLE_BIN_DAYS (rows re-checked, so a
    retry or a second worker purges nothing twice)."""
    from guanxi.customers.recycle import purge_expired

    return run_job("purge_recycle_bin", purge_expired)


@db_periodic_task(
    local_crontab(minute="0", hour="3"), retries=2, retry_delay=600, name="retention_review"
)
def retention_review_job() -> Any:
    """03:00 daily: the PIPL retention purge list (none while one awaits a decision)."""
    from guanxi.customers.privacy import build_retention_list

    return run_job("retention_review", build_retention_list)


# No retries: each run draws a new sample, and a half-failed run rolls back anyway.
@db_periodic_task(local_crontab(minute="0", hour="4", day="1"), name="quality_sample")
def quality_sample_job() -> Any:
    """04:00 on the 1st of each month: the data-quality sample for the data admins."""
    from guanxi.customers.quality import sample

    return run_job("quality_sample", sample)


@db_periodic_task(
    local_crontab(minute="30", hour="1"), retries=2, retry_delay=600, name="tag_rules"
)
def tag_rules_job() -> Any:
    """01:30 nightly: re-evaluate the rule-based tags over every customer."""

    def body() -> Any:
        # Imported here: the tag-rule engine is its own module, loaded only when run.
        from guanxi.customers.tag_rules import evaluate_all

        return evaluate_all()

    return run_job("tag_rules", body)
