"""Writing tasks (待办任务): create by hand, complete. Reminder rules create theirs in
workflow.reminders (no actor, no audit: the reminder row is the record).

Who may assign to whom follows the caller's task write scope: own → only themselves,
department (tree) → members of that department (tree), all → anyone active. The task is
filed under the assignee's department, so a manager sees it in the team view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.aware_time import storable
from guanxi.core.errors import NotFound
from guanxi.core.field_errors import FieldErrors
from guanxi.core.permissions import require_perm
from guanxi.core.scopes import ALL, DEPARTMENT_TREE, OWN, department_ids, effective_scope
from guanxi.workflow.models import Task, TaskPriority, TaskStatus

MSG_REQUIRED = _("此项为必填项")
MSG_TOO_LONG = _("不能超过 %(max)s 个字符")
MSG_BAD_TIME = _("请输入有效的时间，如 2026-11-24 15:00")
MSG_DUE_RANGE = _("截止时间须在 2000 年至 2099 年之间")
MSG_BAD_PRIORITY = _("优先级无效")
MSG_BAD_ASSIGNEE = _("只能指派给本人或您数据范围内的在职人员")
MSG_BAD_CUSTOMER = _("客户不存在或不在您的数据范围内")
TITLE_MAX = 200
DESCRIPTION_MAX = 2000
# Due times outside these years are typing mistakes (and far-off years carry odd offsets).
DUE_YEARS = (2000, 2099)


def assignable_users(actor: Any) -> QuerySet:
    """Active users ``actor`` may give a task to (always including themselves)."""
    from guanxi.accounts.models import User

    users = User.objects.filter(is_active=True, status="active", deleted_at__isnull=True)
    scope = effective_scope(actor, "add", "task")
    if scope == ALL:
        return users
    if scope is None or scope == OWN:
        return users.filter(pk=actor.pk)
    ids = department_ids(actor, with_descendants=scope == DEPARTMENT_TREE)
    return users.filter(Q(department_id__in=ids) | Q(pk=actor.pk))


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def parse_due(raw: Any) -> dt.datetime | None:
    """An aware datetime from ISO text ("2026-11-24T15:00+08:00", "2026-11-24 15:00") or a
    datetime; naive values are local time; a bare date means 18:00 that day."""
    if isinstance(raw, dt.datetime):
        value: dt.datetime | None = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time(18))
    else:
        text = str(raw or "").strip()
        try:
            if len(text) == 10:  # a bare date (parse_datetime would make it midnight)
                value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(18))
            else:
                value = parse_datetime(text)
        except ValueError:
            value = None
    return None if value is None else storable(value)


def clean_task(actor: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """The create input checked field by field (all errors at once)."""
    errors = FieldErrors()
    title = " ".join(str(data.get("title") or "").split())
    if not title:
        errors.add("title", MSG_REQUIRED)
    elif len(title) > TITLE_MAX:
        errors.add("title", MSG_TOO_LONG % {"max": TITLE_MAX})
    description = str(data.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors.add("description", MSG_TOO_LONG % {"max": DESCRIPTION_MAX})
    due_at = None
    if data.get("due_at") in (None, ""):
        errors.add("due_at", MSG_REQUIRED)
    else:
        due_at = parse_due(data.get("due_at"))
        if due_at is None:
            errors.add("due_at", MSG_BAD_TIME)
        elif not DUE_YEARS[0] <= due_at.year <= DUE_YEARS[1]:
            errors.add("due_at", MSG_DUE_RANGE)
    priority = data.get("priority") or TaskPriority.NORMAL
    if priority not in TaskPriority.values:
        errors.add("priority", MSG_BAD_PRIORITY)
    assignee = actor
    if data.get("assignee_id") not in (None, ""):
        pk = _int(data.get("assignee_id"))
        assignee = assignable_users(actor).filter(pk=pk).first() if pk else None
        if assignee is None:
            errors.add("assignee_id", MSG_BAD_ASSIGNEE)
    customer = None
    if data.get("customer_id") not in (None, ""):
        from guanxi.customers.models import Customer

        pk = _int(data.get("customer_id"))
        visible = Customer.objects.alive().restrict(actor, "view")
        customer = visible.filter(pk=pk).first() if pk else None
        if customer is None:
            errors.add("customer_id", MSG_BAD_CUSTOMER)
    errors.raise_if_any()
    return {
        "title": title,
        "description": description,
        "due_at": due_at,
        "priority": priority,
        "assignee": assignee,
        "customer": customer,
    }


@audited_refusals("task.create", target="task")
def task_create(*, actor: Any, data: Mapping[str, Any], meta: RequestMeta | None = None) -> Task:
    """A task by hand: for the caller unless ``assignee_id`` names someone in their scope."""
    require_perm(actor, "workflow.add_task")
    cleaned = clean_task(actor, data)
    assignee = cleaned["assignee"]
    with transaction.atomic():
        task = Task.objects.create(
            **cleaned, department_id=assignee.department_id, created_by=actor
        )
        audit_record(
            actor=actor,
            action="task.create",
            obj=task,
            params={
                "assignee_id": assignee.pk,
                "customer_id": task.customer_id,
                "due_at": task.due_at,
                "priority": task.priority,
            },
            meta=meta,
        )
        if task.customer_id:
            _customer_changed(task.customer_id)
    if assignee.pk != actor.pk:
        _tell_assignee(task, actor)
    return task


def _tell_assignee(task: Task, actor: Any) -> None:
    from django.urls import reverse

    from guanxi.workflow.notifications import notify

    notify(
        [task.assignee],
        kind="task.assigned",
        title=f"{actor.display_name} 给您分配了待办：{task.title}",
        body=f"截止 {timezone.localtime(task.due_at):%Y-%m-%d %H:%M}",
        url=reverse("tasks:list"),
    )


def _customer_changed(customer_id: int) -> None:
    from guanxi.customers.signals import customer_data_changed

    transaction.on_commit(
        lambda: customer_data_changed.send(Task, customer_ids=[customer_id], reason="task")
    )


def task_for_complete(actor: Any, pk: Any) -> Task:
    """A task the caller may complete: their own, or one their task write scope covers;
    anything else is not found."""
    pk = _int(pk)
    if not getattr(actor, "is_authenticated", False) or pk is None:
        raise NotFound()
    visible = Task.objects.restrict(actor, "view")
    writable = Task.objects.restrict(actor, "change")
    task = (
        visible.filter(pk=pk).filter(Q(assignee_id=actor.pk) | Q(pk__in=writable.values("pk")))
    ).first()
    if task is None:
        raise NotFound()
    return task


@audited_refusals("task.complete", target="task")
def task_complete(*, actor: Any, task: Task, meta: RequestMeta | None = None) -> Task:
    """Mark done (completing a done task again changes nothing)."""
    require_perm(actor, "workflow.change_task")
    with transaction.atomic():
        current = Task.objects.select_for_update().get(pk=task.pk)
        if current.status == TaskStatus.DONE:
            return current
        current.status = TaskStatus.DONE
        current.completed_at = timezone.now()
        current.completed_by = actor
        current.version += 1
        current.save(update_fields=["status", "completed_at", "completed_by", "version"])
        audit_record(
            actor=actor,
            action="task.complete",
            obj=current,
            params={"assignee_id": current.assignee_id, "customer_id": current.customer_id},
            meta=meta,
        )
        if current.customer_id:
            _customer_changed(current.customer_id)
    return current
