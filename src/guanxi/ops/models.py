"""Operations models, gathered from their modules (backups, the job schedule, parameters)."""

from guanxi.ops.backup_models import Backup, BackupVerification, RestoreLog, RowChange
from guanxi.ops.job_models import JobRun, JobStatus, ScheduledJob, WorkerHeartbeat
from guanxi.ops.parameter_models import SystemParameter

__all__ = [
    "Backup",
    "BackupVerification",
    "JobRun",
    "JobStatus",
    "RestoreLog",
    "RowChange",
    "ScheduledJob",
    "SystemParameter",
    "WorkerHeartbeat",
]
