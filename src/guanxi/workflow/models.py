"""Notifications to users (the bell); approval flows and automation rules join this app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationLevel(models.TextChoices):
    INFO = "info", _("通知")
    WARNING = "warning", _("警告")
    ALERT = "alert", _("告警")


class Notification(models.Model):
    """One message for one user; unread until ``read_at`` is set."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类型"), max_length=48)
    level = models.CharField(
        _("级别"), max_length=16, choices=NotificationLevel.choices, default=NotificationLevel.INFO
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-id"], name="notification_inbox_idx")
        ]

    def __str__(self) -> str:
        return self.title


# --- approval flows ---------------------------------------------------------------------


class ApproverKind(models.TextChoices):
    ROLE = "role", _("按角色")  # anyone active holding one of the step's roles
    MANAGER = "manager", _("提交人部门负责人")  # the manager of the submitter's department
    USERS = "users", _("指定人员")  # the users named on the step


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("待审批")  # waiting on the current step's approvers
    APPROVED = "approved", _("已通过")  # every applicable step approved; the change is applied
    REJECTED = "rejected", _("已驳回")  # refused at some step, with the approver's reason
    CANCELLED = "cancelled", _("已撤销")  # withdrawn, or superseded by a resubmission


class ApprovalFlow(models.Model):
    """How one kind of change is approved: an ordered list of steps for an (object type,
    action) pair such as ("customer", "create"). The engine is generic; apps register what
    happens when a request of their kind is approved or rejected."""

    object_type = models.SlugField(_("对象类型"), max_length=32)
    action = models.SlugField(_("操作"), max_length=32)
    name = models.CharField(_("流程名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审批流程")
        ordering = ["object_type", "action"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "action"], name="approval_flow_kind_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    """One step of a flow. ``condition`` (optional) is a list of {"field", "op", "value"}
    tests on the request's fields, all of which must hold for the step to apply."""

    flow = models.ForeignKey(ApprovalFlow, models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("步骤名称"), max_length=100)
    approver_kind = models.CharField(_("审批人"), max_length=16, choices=ApproverKind.choices)
    roles = models.ManyToManyField("accounts.Role", blank=True, verbose_name=_("审批角色"))
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("指定审批人")
    )
    condition = models.JSONField(_("适用条件"), default=list, blank=True)

    class Meta:
        verbose_name = _("审批步骤")
        ordering = ["flow", "order"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "order"], name="approval_step_order_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.flow} #{self.order} {self.name}"


class ApprovalRequest(models.Model):
    """One change waiting for (or decided by) a flow. ``payload`` holds what the change is
    (e.g. the new name) and the fields the steps' conditions test."""

    flow = models.ForeignKey(ApprovalFlow, models.PROTECT, related_name="requests")
    object_type = models.SlugField(_("对象类型"), max_length=32)
    object_id = models.BigIntegerField(_("对象ID"))
    action = models.SlugField(_("操作"), max_length=32)
    summary = models.CharField(_("摘要"), max_length=200)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    step_order = models.PositiveSmallIntegerField(_("当前步骤"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("提交人")
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    comment = models.CharField(_("审批意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("审批申请")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-id"], name="approval_object_idx"),
            models.Index(fields=["submitted_by", "status", "-id"], name="approval_submitter_idx"),
        ]

    def __str__(self) -> str:
        return self.summary


class ApprovalTask(models.Model):
    """One approver's turn on one step of a request; the inbox is the open tasks. Approvers
    are fixed when the step starts, so the inbox is one indexed lookup."""

    request = models.ForeignKey(ApprovalRequest, models.CASCADE, related_name="tasks")
    step_order = models.PositiveSmallIntegerField(_("步骤"))
    step_name = models.CharField(_("步骤名称"), max_length=100)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("审批人")
    )
    is_open = models.BooleanField(_("待处理"), default=True)
    decision = models.CharField(
        _("结论"), max_length=16, choices=ApprovalStatus.choices, blank=True
    )
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审批任务")
        ordering = ["request", "step_order", "id"]
        indexes = [
            models.Index(fields=["approver", "is_open", "-request"], name="approval_inbox_idx")
        ]
