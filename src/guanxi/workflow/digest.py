"""The daily digest (每日工作摘要): one e-mail per active user with an e-mail address who
has something to do today — overdue tasks, tasks due today, customers to follow up today.

Runs at 08:00 local time on the worker. A ``Reminder`` row with rule "digest" is the
once-key per user and day, so a second run (or a second worker) sends nothing again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from guanxi.workflow.models import Reminder, Task, TaskStatus
from guanxi.workflow.reminders import active_user_q, local_day, site_link

logger = logging.getLogger("guanxi.worker")

DIGEST_RULE = "digest"
# Lines per section in the e-mail; the rest is counted ("另有 N 项").
SECTION_LIMIT = 20


@dataclass
class Digest:
    """What one user has on their plate today."""

    overdue: list[str] = field(default_factory=list)
    due_today: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)

    def total(self) -> int:
        return len(self.overdue) + len(self.due_today) + len(self.follow_ups)


def _task_line(task: Task) -> str:
    when = timezone.localtime(task.due_at)
    customer = f"，客户：{task.customer.name}" if task.customer_id else ""
    return f"{task.title}（截止 {when:%m-%d %H:%M}{customer}）"


def collect(now: dt.datetime) -> dict[int, Digest]:
    """{user id: Digest} for every active user with an e-mail and something today."""
    from guanxi.customers.models import Customer

    _, start, end = local_day(now)
    digests: dict[int, Digest] = defaultdict(Digest)
    tasks = (
        Task.objects.filter(status=TaskStatus.OPEN, due_at__lt=end)
        .filter(active_user_q("assignee__"))
        .exclude(assignee__email="")
        .select_related("customer")
        .order_by("due_at", "pk")
    )
    for task in tasks:
        bucket = digests[task.assignee_id]
        (bucket.overdue if task.due_at < start else bucket.due_today).append(_task_line(task))
    customers = (
        Customer.objects.alive()
        .filter(next_follow_up_at__gte=start, next_follow_up_at__lt=end)
        .filter(active_user_q("owner__"))
        .exclude(owner__email="")
        .order_by("next_follow_up_at", "pk")
        .values_list("owner_id", "name", "next_follow_up_at")
    )
    for owner_id, name, at in customers:
        digests[owner_id].follow_ups.append(f"{name}（{timezone.localtime(at):%H:%M}）")
    return dict(digests)


def _section(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    out = [f"{title}（{len(lines)}）："] + [f"  · {line}" for line in lines[:SECTION_LIMIT]]
    if len(lines) > SECTION_LIMIT:
        out.append(f"  ……另有 {len(lines) - SECTION_LIMIT} 项")
    return [*out, ""]


def render(user: Any, day: dt.date, digest: Digest) -> tuple[str, str]:
    """(subject, plain-text body) in Chinese."""
    subject = f"【关系 Guanxi】每日工作摘要 {day.isoformat()}：{digest.total()} 项待处理"
    body = [f"{user.display_name}，早上好！以下是您 {day.isoformat()} 的工作摘要：", ""]
    body += _section("已逾期的待办", digest.overdue)
    body += _section("今天到期的待办", digest.due_today)
    body += _section("今天需要跟进的客户", digest.follow_ups)
    body += [f"打开待办任务：{site_link(reverse('tasks:list'))}", "", "—— 关系 Guanxi 客户管理系统"]
    return subject, "\n".join(body)


def send_daily_digests(now: dt.datetime | None = None) -> int:
    """The daily job body: send each user's digest once per local day; returns how many
    were sent by this call."""
    from guanxi.accounts.models import User

    now = now or timezone.now()
    day = timezone.localdate(now)
    digests = collect(now)
    done = set(
        Reminder.objects.filter(rule=DIGEST_RULE, period=day.isoformat()).values_list(
            "recipient_id", flat=True
        )
    )
    users = User.objects.in_bulk([pk for pk in digests if pk not in done])
    sent = 0
    for pk, user in users.items():
        subject, body = render(user, day, digests[pk])
        with transaction.atomic():
            try:
                with transaction.atomic():
                    Reminder.objects.create(
                        rule=DIGEST_RULE,
                        subject=f"user:{pk}",
                        period=day.isoformat(),
                        recipient=user,
                        created_at=now,
                    )
            except IntegrityError:
                continue  # another worker sends this one
            transaction.on_commit(lambda u=user, s=subject, b=body: _send(u, s, b))
        sent += 1
    return sent


def _send(user: Any, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        logger.exception("daily digest to user %s failed", user.pk)
