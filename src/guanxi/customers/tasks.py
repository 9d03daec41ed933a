"""Periodic jobs of the customers app, run by ``guanxi worker`` on the schedule kept in
系统设置 → 定时任务 (the defaults below seed it). The bodies are the functions the management
commands of the same names also call."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.ops.schedule import scheduled_job


@scheduled_job(
    "purge_recycle_bin", title=_("回收站清理"), cron="30 2 * * *", retries=2, retry_delay=600
)
def purge_recycle_bin_job() -> int:
    """02:30 daily: purge customers past GUANXI_RECYCLE_BIN_DAYS (rows re-checked, so a
    retry or a second worker purges nothing twice)."""
    from guanxi.customers.recycle import purge_expired

    return purge_expired()


@scheduled_job(
    "retention_review",
    title=_("个人信息保存期限审查"),
    cron="0 3 * * *",
    retries=2,
    retry_delay=600,
)
def retention_review_job() -> Any:
    """03:00 daily: the PIPL retention purge list (none while one awaits a decision)."""
    from guanxi.customers.privacy import build_retention_list

    return build_retention_list()


# No retries: each run draws a new sample, and a half-failed run rolls back anyway.
@scheduled_job("quality_sample", title=_("数据质量抽样"), cron="0 4 1 * *", retries=0)
def quality_sample_job() -> Any:
    """04:00 on the 1st of each month: the data-quality sample for the data admins."""
    from guanxi.customers.quality import sample

    return sample()


@scheduled_job("tag_rules", title=_("标签规则计算"), cron="30 1 * * *", retries=2, retry_delay=600)
def tag_rules_job() -> Any:
    """01:30 nightly: re-evaluate the rule-based tags over every customer."""
    # Imported here: the tag-rule engine is its own module, loaded only when run.
    from guanxi.customers.tag_rules import evaluate_all

    return evaluate_all()


@scheduled_job("churn_review", title=_("流失预警"), cron="15 3 * * *", retries=2, retry_delay=600)
def churn_review_job() -> int:
    """03:15 daily: propose cooperating customers whose business ended long ago as 流失."""
    from guanxi.customers.churn import propose_churn

    return propose_churn()
