"""What a failed job leaves behind besides its JobRun row: an audit entry for every failed
attempt, and a notification to the administrators when the retries are spent."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.audit.models import AuditResult
from guanxi.audit.services import audit_record
from guanxi.ops.job_models import JobRun, ScheduledJob

ACTION_JOB_FAILED = "job.failed"


def audit_failure(job: ScheduledJob, run: JobRun, *, error: str, final: bool) -> None:
    audit_record(
        actor=None,
        action=ACTION_JOB_FAILED,
        result=AuditResult.FAILED,
        obj=job,
        params={"attempt": run.attempt, "final": final, "error": error, "run": run.pk},
    )


def announce_final_failure(job: ScheduledJob, error: str) -> None:
    """Tell the administrators (bell notification) that a job gave up."""
    from guanxi.workflow.models import NotificationLevel
    from guanxi.workflow.notifications import admins, notify

    notify(
        admins(),
        kind="job_failed",
        title=_("定时任务“%(title)s”运行失败") % {"title": job.title},
        body=error,
        url=reverse("ops:jobs"),
        level=NotificationLevel.WARNING,
    )
