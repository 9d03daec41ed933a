"""The backup catalog, the restore log and the restore-verification records.

These rows describe backups, they are not part of them: a restore puts them back as they
were before it ran (see ``restore_service``), so the catalog never forgets newer backups.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupKind(models.TextChoices):
    FULL = "full", _("全量备份")  # the whole database and media
    INCREMENTAL = "incremental", _("增量备份")  # rows and files changed since the previous backup


class BackupTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("定时")  # the worker's weekly/daily job
    MANUAL = "manual", _("手动")  # 立即备份 or `guanxi backup`
    SAFETY = "safety", _("恢复前安全备份")  # taken by a restore before it overwrites data
    UPGRADE = "upgrade", _("升级前备份")  # taken by `guanxi upgrade`


class Backup(models.Model):
    """One complete backup: a row exists only once its file and manifest are on disk."""

    backup_id = models.CharField(_("备份编号"), max_length=40, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=BackupKind.choices)
    trigger = models.CharField(
        _("触发方式"), max_length=16, choices=BackupTrigger.choices, default=BackupTrigger.MANUAL
    )
    base = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("上一备份"),
    )
    created_at = models.DateTimeField(_("备份时间"), db_index=True)
    bytes = models.BigIntegerField(_("大小(字节)"), default=0)
    seconds = models.FloatField(_("耗时(秒)"), default=0)
    vendor = models.CharField(_("数据库"), max_length=16)
    file_name = models.CharField(_("文件"), max_length=200)
    sha256 = models.CharField(_("文件校验和"), max_length=64)
    manifest = models.JSONField(_("清单"), default=dict)
    offsite = models.CharField(_("异地副本"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("数据备份")
        verbose_name_plural = _("数据备份")
        permissions = [("manage_backups", "Can back up, restore and verify the data")]

    def __str__(self) -> str:
        return self.backup_id


class RestoreLog(models.Model):
    """Who restored which backup when, and whether the result matched the manifest."""

    backup_id = models.CharField(_("备份编号"), max_length=40)
    chain = models.JSONField(_("恢复链"), default=list)
    safety_backup_id = models.CharField(_("安全备份"), max_length=40, blank=True, default="")
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ok = models.BooleanField(_("成功"), default=False)
    message = models.TextField(_("结果说明"), blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_username = models.CharField(_("操作人"), max_length=150, blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("数据恢复记录")
        verbose_name_plural = _("数据恢复记录")


class BackupVerification(models.Model):
    """数据备份验证记录: a backup chain restored into a scratch database and compared."""

    backup_id = models.CharField(_("备份编号"), max_length=40)
    chain = models.JSONField(_("恢复链"), default=list)
    started_at = models.DateTimeField(_("开始时间"))
    seconds = models.FloatField(_("耗时(秒)"), default=0)
    ok = models.BooleanField(_("通过"), default=False)
    tables = models.IntegerField(_("表数"), default=0)
    rows = models.BigIntegerField(_("行数"), default=0)
    message = models.TextField(_("结果说明"), blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("数据备份验证记录")
        verbose_name_plural = _("数据备份验证记录")


class RowChange(models.Model):
    """One written row of a backed-up table, logged by database triggers (see
    ``backup_changelog``): an incremental backup reads the keys logged since its base instead
    of scanning every table. Rows the latest backup already holds are trimmed after it."""

    table_name = models.CharField(max_length=100)
    # The row's primary key as text; NULL means "the whole table" (PostgreSQL TRUNCATE).
    row_key = models.TextField(null=True)

    class Meta:
        db_table = "ops_row_change"
        default_permissions = ()
