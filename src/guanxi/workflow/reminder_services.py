"""Editing the reminder rules (系统设置 → 提醒规则): switch on/off, the days parameter,
生成待办 and 发送邮件. Audited with the before/after values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import RequestMeta, audit_record, audited_refusals
from guanxi.core.permissions import require_perm
from guanxi.workflow.models import ReminderRule
from guanxi.workflow.reminders import MAX_DAYS

MSG_BAD_DAYS = _("天数须为 1 到 %(max)s 之间的整数")
FLAGS = ("enabled", "make_task", "send_email")


def _days(raw: Any) -> int:
    try:
        days = int(str(raw).strip())
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": [MSG_BAD_DAYS % {"max": MAX_DAYS}]})
    return days


@audited_refusals("reminder_rule.update", target="rule")
def reminder_rule_update(
    *, actor: Any, rule: ReminderRule, data: Mapping[str, Any], meta: RequestMeta | None = None
) -> ReminderRule:
    """Apply the given flags (and ``days`` for rules that have it); unknown keys are ignored."""
    require_perm(actor, "workflow.change_reminderrule")
    with transaction.atomic():
        current = ReminderRule.objects.select_for_update().get(pk=rule.pk)
        changes: dict[str, Any] = {}
        for flag in FLAGS:
            if flag in data and bool(data[flag]) != getattr(current, flag):
                changes[flag] = [getattr(current, flag), bool(data[flag])]
                setattr(current, flag, bool(data[flag]))
        if "days" in (current.params or {}) and data.get("days") not in (None, ""):
            days = _days(data["days"])
            if days != current.params.get("days"):
                changes["days"] = [current.params.get("days"), days]
                current.params = {**current.params, "days": days}
        if not changes:
            return current
        current.updated_at = timezone.now()
        current.save()
        audit_record(
            actor=actor,
            action="reminder_rule.update",
            obj=current,
            object_type="reminder_rule",
            changes=changes,
            meta=meta,
        )
    return current
