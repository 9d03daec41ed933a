"""Import batches, their row issues and saved column mappings; background export jobs.

Every imported record points at its ``ImportBatch`` (``import_batch`` on customers, contacts
and follow-ups), so a batch can be undone as a whole; an updated record's previous values
are kept in ``ImportUpdate`` for the same reason. ``rows_done`` is the checkpoint: it moves
in the same transaction as the rows it counts, so after a crash it says exactly where to
resume.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportObject(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    CONTACT = "contact", _("联系人")
    FOLLOW_UP = "follow_up", _("跟进记录")


class DedupeMode(models.TextChoices):
    SKIP = "skip", _("跳过重复")  # a row matching an existing record is not imported
    UPDATE = "update", _("更新已有记录")  # the row's non-empty values overwrite the match
    CREATE = "create", _("新建并标记")  # created anyway, listed as a possible duplicate


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("待映射")  # file stored and read; mapping to confirm
    VALIDATING = "validating", _("校验中")  # the dry run is reading every row
    VALIDATED = "validated", _("已校验")  # dry run done, preview shown
    QUEUED = "queued", _("排队中")  # handed to the worker
    RUNNING = "running", _("导入中")  # the worker is writing chunks
    INTERRUPTED = "interrupted", _("已中断")  # the worker died; resume or restart
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")  # stopped on an unexpected error (rows before it kept)
    UNDONE = "undone", _("已撤销")  # every record of the batch removed or restored


class RowIssueKind(models.TextChoices):
    ERROR = "error", _("错误")  # the row was not imported
    DUPLICATE_SKIPPED = "skipped", _("重复跳过")  # matched an existing record, skipped
    DUPLICATE_FLAGGED = "flagged", _("疑似重复")  # created, but matches an existing record


class ImportBatch(models.Model):
    """One uploaded file on its way in: who, when, which file, how it is mapped, and counts."""

    object_type = models.CharField(_("导入对象"), max_length=20, choices=ImportObject.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    dedupe = models.CharField(
        _("重复处理"), max_length=10, choices=DedupeMode.choices, default=DedupeMode.SKIP
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_path = models.CharField(max_length=500)  # relative to GUANXI_DATA_DIR
    file_sha256 = models.CharField(max_length=64)
    file_size = models.BigIntegerField(default=0)
    file_kind = models.CharField(max_length=10)  # "csv" | "xlsx"
    encoding = models.CharField(max_length=20, blank=True)  # CSV only
    sheet_name = models.CharField(max_length=100, blank=True)  # XLSX only
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # {column index as text: field name}
    total_rows = models.IntegerField(null=True, blank=True)
    rows_done = models.IntegerField(default=0)  # data rows settled (checkpoint)
    last_row = models.IntegerField(default=0)  # row number of the last settled row
    started_rows = models.IntegerField(default=0)  # rows_done when this run (or resume) began
    created_count = models.IntegerField(default=0)
    updated_count = models.IntegerField(default=0)
    skipped_count = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    flagged_count = models.IntegerField(default=0)
    dry_run = models.JSONField(default=dict)  # the dry run's counts
    preview = models.JSONField(default=list)  # the first rows with their cell errors
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_batches"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "-id"]), models.Index(fields=["status"])]
        permissions = [("undo_importbatch", "Can undo an import batch")]

    def __str__(self) -> str:
        return f"{self.file_name} #{self.pk}"


class ImportRowIssue(models.Model):
    """A row that was refused, skipped as a duplicate or created with a duplicate flag."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    kind = models.CharField(max_length=10, choices=RowIssueKind.choices)
    row_number = models.IntegerField()  # as the spreadsheet numbers it (header is row 1)
    column = models.CharField(max_length=255, blank=True)  # the file's header
    field = models.CharField(max_length=50, blank=True)
    value = models.TextField(blank=True)
    message = models.TextField()
    raw = models.JSONField(default=list)  # the row's cells as read
    object_id = models.BigIntegerField(null=True, blank=True)  # created / matched record
    matched_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["batch", "kind", "row_number"])]


class ImportUpdate(models.Model):
    """A record the batch updated, with its values before, so an undo can put them back."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="updates")
    object_id = models.BigIntegerField()
    before = models.JSONField(default=dict)
    version = models.IntegerField(default=0)  # the record's version right after the import

    class Meta:
        indexes = [models.Index(fields=["batch", "object_id"])]


class ImportMapping(models.Model):
    """A named column mapping (header → field) saved from an import, to apply to the next."""

    name = models.CharField(_("名称"), max_length=64)
    object_type = models.CharField(max_length=20, choices=ImportObject.choices)
    mapping = models.JSONField(default=dict)  # {normalised header: field name}
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["object_type", "name"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "name"], name="import_mapping_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ExportJob(models.Model):
    """A large export written by the worker; its file is downloaded later by its owner only."""

    object_type = models.CharField(max_length=20)
    fmt = models.CharField(max_length=10)
    params = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows = models.IntegerField(null=True, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)  # relative to GUANXI_DATA_DIR
    file_name = models.CharField(max_length=255, blank=True)
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "-id"])]
