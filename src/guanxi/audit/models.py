"""The audit log: one row per action (successful, refused or failed), hash-chained.

Change history of business records is read from here, so before/after lives in ``changes``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditResult(models.TextChoices):
    SUCCESS = "success", _("成功")  # the action took effect
    DENIED = "denied", _("拒绝")  # refused by permission, scope or a business rule
    FAILED = "failed", _("失败")  # invalid input or an error; nothing changed


class AuditEntry(models.Model):
    """An immutable record of who did what to which object, from where, with what result."""

    occurred_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # Never cascade into the log: users are soft-deleted, and rows here are append-only.
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("操作人"),
    )
    actor_username = models.CharField(_("用户名"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=255, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    result = models.CharField(_("结果"), max_length=16, choices=AuditResult.choices)
    error_code = models.CharField(_("错误码"), max_length=16, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        ordering = ["-id"]
        permissions = [("export_auditentry", _("导出审计日志"))]
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
        ]


class AuditChainHead(models.Model):
    """Single row holding the newest hash; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, blank=True)
    last_entry_id = models.BigIntegerField(default=0)
