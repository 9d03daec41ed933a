"""Reminder rules: what is due for whom, fired exactly once per rule, subject, period and
recipient however many workers evaluate the rules at the same time.

Each rule code maps to a finder that yields ``Due`` items; ``run_reminders`` (the periodic
job body, every 15 minutes) inserts one ``Reminder`` row per item and only the worker whose
insert won creates the task, the notification and the e-mail. The unique constraint
``reminder_once`` is the referee: a second worker's insert of the same key waits for the
first one's transaction and then fails, so it does nothing (no locks, no shared state).
Admins switch and tune the rules under 系统设置 → 提醒规则 (``ReminderRule`` rows).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import timezone

from guanxi.workflow.models import Reminder, ReminderRule, Task
from guanxi.workflow.notifications import notify

logger = logging.getLogger("guanxi.worker")

# How often the reminders job runs: a follow-up due within the next run is announced now.
RUN_WINDOW = dt.timedelta(minutes=15)
DEFAULT_DAYS = 3
# Due items handled per batch (one pre-filter query and one user lookup each).
BATCH_SIZE = 500
MAX_DAYS = 365


@dataclass(frozen=True)
class Due:
    """One reminder a rule wants to fire (before the exactly-once check)."""

    subject: str  # what it is about, e.g. "customer:42"
    period: str  # the period it fires for, e.g. "2026-11-24"
    recipient_id: int
    title: str
    body: str = ""
    customer_id: int | None = None
    due_at: dt.datetime | None = None  # the task's due time when the rule makes tasks


Finder = Callable[[ReminderRule, dt.datetime], Iterable[Due]]


@dataclass(frozen=True)
class RuleSpec:
    """A rule's code, its defaults (seeded once, then edited by admins) and its finder."""

    code: str
    name: str
    description: str
    finder: Finder
    params: dict[str, Any] = field(default_factory=dict)
    make_task: bool = True
    send_email: bool = False


RULES: dict[str, RuleSpec] = {}


def rule(code: str, name: str, description: str, **defaults: Any) -> Callable[[Finder], Finder]:
    """Register ``finder`` as the source of rule ``code``."""

    def register(finder: Finder) -> Finder:
        RULES[code] = RuleSpec(code, name, description, finder, **defaults)
        return finder

    return register


# --- time helpers -------------------------------------------------------------------------


def local_day(now: dt.datetime, offset: int = 0) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The local date ``offset`` days from ``now`` and its [start, end) in aware datetimes."""
    day = timezone.localdate(now) + dt.timedelta(days=offset)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return day, start, end


def active_user_q(prefix: str) -> Q:
    """Users who can still act on a reminder (not disabled, not deleted)."""
    return Q(
        **{
            f"{prefix}is_active": True,
            f"{prefix}status__in": ["active", "locked"],
            f"{prefix}deleted_at__isnull": True,
        }
    )


def rule_days(rule_row: ReminderRule) -> int:
    try:
        days = int((rule_row.params or {}).get("days", DEFAULT_DAYS))
    except (TypeError, ValueError):
        days = DEFAULT_DAYS
    return min(max(days, 1), MAX_DAYS)


# --- the rules ------------------------------------------------------------------------------


@rule(
    "followup_due",
    "下次跟进到期",
    "客户的下次跟进时间在今天且即将到达（或今天已过）时提醒客户负责人。",
)
def followup_due(rule_row: ReminderRule, now: dt.datetime) -> Iterator[Due]:
    from guanxi.customers.models import Customer

    day, start, end = local_day(now)
    rows = (
        Customer.objects.alive()
        .filter(active_user_q("owner__"))
        .filter(next_follow_up_at__gte=start, next_follow_up_at__lt=end)
        .filter(next_follow_up_at__lte=now + RUN_WINDOW)
        .values_list("pk", "name", "owner_id", "next_follow_up_at")
    )
    for pk, name, owner_id, at in rows:
        when = timezone.localtime(at).strftime("%H:%M")
        yield Due(
            subject=f"customer:{pk}",
            period=day.isoformat(),
            recipient_id=owner_id,
            title=f"跟进提醒：{name}（{when}）",
            body=f"按计划今天 {when} 跟进客户“{name}”。",
            customer_id=pk,
            due_at=at,
        )


def _reminded_since_last_touch(code: str) -> QuerySet:
    """Reminders of rule ``code`` to the outer customer's owner since its last follow-up
    (or its creation); served by the ``reminder_once`` index (rule, subject, ...)."""
    return Reminder.objects.filter(
        rule=code,
        recipient_id=OuterRef("owner_id"),
        subject=Concat(Value("customer:"), Cast(OuterRef("pk"), CharField())),
        created_at__gte=Coalesce(OuterRef("last_follow_up_at"), OuterRef("created_at")),
    )


@rule(
    "not_followed",
    "客户超过 N 天未跟进",
    "合作中或潜在客户超过 N 天（参数 days，默认 3）没有跟进记录（从未跟进的按创建时间算）"
    "时提醒客户负责人；每次断档只提醒一次，重新跟进后再断档会再次提醒。",
    params={"days": DEFAULT_DAYS},
    # A bell item, not a to-do: switched on over an existing customer base the rule would
    # otherwise file one task per lapsed customer at once (admins may turn tasks on).
    make_task=False,
)
def not_followed(rule_row: ReminderRule, now: dt.datetime) -> Iterator[Due]:
    from guanxi.customers.choices import CustomerStatus
    from guanxi.customers.models import Customer

    days = rule_days(rule_row)
    limit = now - dt.timedelta(days=days)
    _, _, today_end = local_day(now)
    rows = (
        Customer.objects.alive()
        .filter(active_user_q("owner__"))
        .filter(status__in=[CustomerStatus.COOPERATING, CustomerStatus.POTENTIAL])
        .filter(
            Q(last_follow_up_at__lt=limit) | Q(last_follow_up_at__isnull=True, created_at__lt=limit)
        )
        # Lapses reminded already (a reminder since the last touch) stay in the database, so
        # the run every 15 minutes reads only the new ones.
        .exclude(Exists(_reminded_since_last_touch(rule_row.code)))
        .values_list("pk", "name", "owner_id", "last_follow_up_at", "created_at")
        .iterator(chunk_size=BATCH_SIZE)
    )
    for pk, name, owner_id, last, created in rows:
        # The period is the lapse itself (the last touch), so one lapse fires once.
        mark, since = ("f", last) if last else ("c", created)
        yield Due(
            subject=f"customer:{pk}",
            period=f"{mark}{timezone.localdate(since).isoformat()}",
            recipient_id=owner_id,
            title=f"客户“{name}”已超过 {days} 天未跟进",
            body=(
                f"最近跟进：{timezone.localtime(last):%Y-%m-%d %H:%M}。"
                if last
                else f"创建于 {timezone.localtime(created):%Y-%m-%d}，尚无跟进记录。"
            ),
            customer_id=pk,
            due_at=today_end - dt.timedelta(minutes=1),
        )


def _month_days(day: dt.date) -> list[str]:
    """The "MM-DD" keys whose birthday falls on ``day`` (29 Feb counts on 1 Mar off leap years)."""
    keys = [day.strftime("%m-%d")]
    if keys[0] == "03-01":
        try:
            dt.date(day.year, 2, 29)
        except ValueError:
            keys.append("02-29")
    return keys


@rule(
    "birthday_tomorrow",
    "联系人明天生日",
    "客户联系人明天过生日时提前一天提醒客户负责人。",
    make_task=False,
)
def birthday_tomorrow(rule_row: ReminderRule, now: dt.datetime) -> Iterator[Due]:
    from guanxi.customers.models import Contact

    tomorrow, start, _ = local_day(now, 1)
    rows = (
        Contact.objects.alive()
        .filter(customer__deleted_at__isnull=True, birthday_md__in=_month_days(tomorrow))
        .filter(active_user_q("customer__owner__"))
        .values_list("pk", "name", "customer_id", "customer__name", "customer__owner_id")
    )
    for pk, name, customer_id, customer_name, owner_id in rows:
        yield Due(
            subject=f"contact:{pk}",
            period=tomorrow.isoformat(),
            recipient_id=owner_id,
            title=f"明天（{tomorrow:%m-%d}）是{customer_name}联系人{name}的生日",
            body="别忘了送上祝福。",
            customer_id=customer_id,
            due_at=start + dt.timedelta(hours=9),
        )


@rule(
    "close_date_near",
    "预计成交日期临近",
    "商机的预计成交日期在 N 天内（参数 days，默认 7）时提醒商机负责人。"
    "商机（销售）模块尚未提供，本规则暂不产生任何提醒。",
    params={"days": 7},
)
def close_date_near(rule_row: ReminderRule, now: dt.datetime) -> Iterator[Due]:
    """No opportunities exist yet: the sales module will supply the finder's query."""
    return iter(())


# --- seeding ---------------------------------------------------------------------------------


def ensure_reminder_rules() -> dict[str, ReminderRule]:
    """Create the missing rule rows with their defaults; edited rows are kept as they are."""
    rows = {r.code: r for r in ReminderRule.objects.filter(code__in=RULES)}
    for code, spec in RULES.items():
        if code not in rows:
            rows[code], _ = ReminderRule.objects.get_or_create(
                code=code,
                defaults={
                    "name": spec.name,
                    "params": dict(spec.params),
                    "make_task": spec.make_task,
                    "send_email": spec.send_email,
                },
            )
    return rows


# --- firing ----------------------------------------------------------------------------------


def run_reminders(now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic job: evaluate every enabled rule at ``now``; {code: reminders fired}.

    Items are handled in batches, so a rule matching many customers (the first run after
    switching 客户超过 N 天未跟进 on) never holds them all in memory.
    """
    now = now or timezone.now()
    fired: dict[str, int] = {}
    for code, rule_row in ensure_reminder_rules().items():
        if not rule_row.enabled:
            continue
        fired[code] = 0
        for batch in _batches(RULES[code].finder(rule_row, now), BATCH_SIZE):
            fired[code] += _fire_batch(rule_row, batch, now)
    return fired


def _batches(items: Iterable[Due], size: int) -> Iterator[list[Due]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _fire_batch(rule_row: ReminderRule, dues: list[Due], now: dt.datetime) -> int:
    from guanxi.accounts.models import User

    seen = _already_fired(rule_row.code, dues)
    dues = [d for d in dues if (d.subject, d.period, d.recipient_id) not in seen]
    users = User.objects.in_bulk({d.recipient_id for d in dues})
    return sum(_fire(rule_row, due, users[due.recipient_id], now) for due in dues)


def _already_fired(code: str, dues: list[Due]) -> set[tuple[str, str, int]]:
    """Keys fired before: a cheap pre-filter so a quiet run costs one query per batch (the
    unique constraint still decides the races)."""
    return set(
        Reminder.objects.filter(
            rule=code,
            subject__in={d.subject for d in dues},
            period__in={d.period for d in dues},
        ).values_list("subject", "period", "recipient_id")
    )


def _fire(rule_row: ReminderRule, due: Due, user: Any, now: dt.datetime) -> bool:
    """Insert the reminder; only when this call's insert won, create what it announces."""
    url = reverse("customers:detail", args=[due.customer_id]) if due.customer_id else ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                reminder = Reminder.objects.create(
                    rule=rule_row.code,
                    subject=due.subject,
                    period=due.period,
                    recipient=user,
                    created_at=now,
                )
        except IntegrityError:
            return False  # another worker (or an earlier run) fired it
        if rule_row.make_task:
            reminder.task = Task.objects.create(
                title=due.title[:200],
                description=due.body,
                assignee=user,
                department_id=user.department_id,
                customer_id=due.customer_id,
                due_at=due.due_at or now,
                rule=rule_row.code,
                created_at=now,
            )
        (reminder.notification,) = notify(
            [user], kind=f"reminder.{rule_row.code}", title=due.title, body=due.body, url=url
        )
        reminder.save(update_fields=["task", "notification"])
        if rule_row.send_email and user.email:
            transaction.on_commit(lambda: send_reminder_email(user, due, url))
    return True


def site_link(path: str) -> str:
    return f"{settings.GUANXI_SITE_URL}{path}" if path else ""


def send_reminder_email(user: Any, due: Due, url: str) -> bool:
    """One reminder by e-mail; a mail server failure is logged, never raised (the reminder
    is already in the notification centre)."""
    lines = [f"{user.display_name}，您好：", "", due.title]
    if due.body:
        lines.append(due.body)
    if url:
        lines += ["", f"查看：{site_link(url)}"]
    lines += ["", "—— 关系 Guanxi 客户管理系统（提醒规则可在 系统设置 → 提醒规则 中调整）"]
    try:
        send_mail(f"【关系 Guanxi】{due.title}", "\n".join(lines), None, [user.email])
    except Exception:
        logger.exception("reminder e-mail to user %s failed", user.pk)
        return False
    return True
