"""Notifications to users (the bell); approval flows and automation rules join this app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import ScopedQuerySet


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


# --- tasks and reminders ----------------------------------------------------------------


class TaskPriority(models.TextChoices):
    LOW = "low", _("低")
    NORMAL = "normal", _("中")
    HIGH = "high", _("高")
    URGENT = "urgent", _("紧急")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Task(models.Model):
    """A to-do for one user (待办任务), by hand or from a reminder rule; may name a customer.

    Scoped like other business rows: the assignee is the owner, the assignee's department
    the department, so a manager sees the team's tasks.
    """

    title = models.CharField(_("任务"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="tasks", verbose_name=_("负责人")
    )
    department = models.ForeignKey(
        "accounts.Department",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属部门"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("客户"),
    )
    due_at = models.DateTimeField(_("截止时间"))
    priority = models.CharField(
        _("优先级"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    # The reminder rule that made it ("" for tasks made by hand).
    rule = models.CharField(_("来源规则"), max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完成人"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = ScopedQuerySet.as_manager()

    scope_owner_field = "assignee"
    scope_department_field = "department"
    scope_object_type = "task"

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["status", "due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["customer", "status"], name="task_customer_idx"),
            models.Index(fields=["department", "status", "due_at"], name="task_dept_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ReminderRule(models.Model):
    """A reminder rule admins switch and tune under 系统设置 (workflow.reminders holds the
    code that finds what is due for each ``code``)."""

    code = models.CharField(_("规则代码"), max_length=32, unique=True)
    name = models.CharField(_("规则名称"), max_length=64)
    enabled = models.BooleanField(_("启用"), default=True)
    # Rule parameters, e.g. {"days": 3} for 客户超过 N 天未跟进.
    params = models.JSONField(_("参数"), default=dict, blank=True)
    make_task = models.BooleanField(_("生成待办"), default=True)
    send_email = models.BooleanField(_("发送邮件"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("提醒规则")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Reminder(models.Model):
    """One reminder fired: the unique key (rule, subject, period, recipient) makes a rule fire
    once per period however many workers evaluate it at the same time."""

    rule = models.CharField(_("规则"), max_length=32)
    # What it is about, e.g. "customer:42" or "contact:7".
    subject = models.CharField(_("对象"), max_length=64)
    # The period it fired for, e.g. "2026-11-24".
    period = models.CharField(_("周期"), max_length=16)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("接收人")
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    task = models.ForeignKey(Task, models.SET_NULL, null=True, blank=True, related_name="+")
    notification = models.ForeignKey(
        Notification, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("提醒记录")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject", "period", "recipient"], name="reminder_once"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="reminder_created_idx")]
