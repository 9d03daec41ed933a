"""Scheduled reports: when they are due, who may send to whom, and that each recipient's
attachment holds the numbers of their own scope (equal to a direct count for them)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.reports.schedule_delivery import run_due_schedules
from guanxi.reports.schedule_models import ReportDelivery, ReportSchedule
from guanxi.reports.schedule_services import (
    MSG_OTHERS,
    schedule_create,
    schedule_delete,
    schedule_run_now,
    schedule_update,
)
from guanxi.reports.schedule_timing import next_occurrence
from tests.reports.support import customers_in, seed

SHANGHAI = ZoneInfo("Asia/Shanghai")
EIGHT = dt.time(8, 0)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


# -- when -------------------------------------------------------------------------------------


def test_daily_is_today_until_the_time_passes_then_tomorrow() -> None:
    before = next_occurrence(after=local(2026, 11, 24, 7, 59), frequency="daily", time_of_day=EIGHT)
    assert before == local(2026, 11, 24, 8, 0)
    assert before.tzinfo == dt.UTC and before.hour == 0  # 08:00 Shanghai is 00:00 UTC
    at = next_occurrence(after=local(2026, 11, 24, 8, 0), frequency="daily", time_of_day=EIGHT)
    assert at == local(2026, 11, 25, 8, 0)


def test_weekly_lands_on_the_weekday() -> None:
    # 2026-11-24 is a Tuesday.
    friday = next_occurrence(
        after=local(2026, 11, 24, 12), frequency="weekly", time_of_day=EIGHT, weekday=4
    )
    assert friday == local(2026, 11, 27, 8)
    tuesday = next_occurrence(
        after=local(2026, 11, 24, 12), frequency="weekly", time_of_day=EIGHT, weekday=1
    )
    assert tuesday == local(2026, 12, 1, 8)


def test_monthly_uses_the_last_day_of_short_months_and_rolls_the_year() -> None:
    feb = next_occurrence(
        after=local(2027, 1, 31, 9), frequency="monthly", time_of_day=EIGHT, day_of_month=31
    )
    assert feb == local(2027, 2, 28, 8)
    january = next_occurrence(
        after=local(2026, 12, 15, 9), frequency="monthly", time_of_day=EIGHT, day_of_month=1
    )
    assert january == local(2027, 1, 1, 8)
    same_month = next_occurrence(
        after=local(2026, 12, 15, 9), frequency="monthly", time_of_day=EIGHT, day_of_month=20
    )
    assert same_month == local(2026, 12, 20, 8)


# -- who --------------------------------------------------------------------------------------


@pytest.fixture
def data(org: dict[str, Any], make_customer: Any) -> list[Customer]:
    for n, who in enumerate(("manager", "rep_a", "rep_b", "analyst", "admin")):
        org[who].email = f"user{n}@example.com"
        org[who].save(update_fields=["email"])
    return seed(org, make_customer)


def schedule_data(**extra: Any) -> dict[str, Any]:
    values = {
        "name": "每周客户分布",
        "report_key": "distribution",
        "params": {"by": "status"},
        "frequency": "weekly",
        "time_of_day": EIGHT,
        "weekday": 0,
        "file_format": "xlsx",
        "enabled": True,
    }
    values.update(extra)
    return values


def attachment_total(message: Any) -> int:
    """The 合计 of the distribution table in an e-mailed workbook."""
    [(name, content, _mimetype)] = message.attachments
    assert name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(content))
    rows = [list(r) for r in book[book.sheetnames[1]].iter_rows(values_only=True)]
    assert rows[-1][0] == "合计"
    assert sum(r[1] for r in rows[1:-1]) == rows[-1][1]
    return rows[-1][1]


@pytest.mark.django_db
def test_each_recipient_gets_their_own_scope(org, data) -> None:
    manager, rep = org["manager"], org["rep_a"]
    schedule = schedule_create(actor=manager, data=schedule_data(recipient_users=[manager, rep]))
    counts = schedule_run_now(actor=manager, schedule=schedule)
    assert counts == {"sent": 2, "skipped": 0, "failed": 0}
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {manager.email, rep.email}
    manager_total = attachment_total(by_address[manager.email])
    rep_total = attachment_total(by_address[rep.email])
    assert manager_total == customers_in(org, "manager").count()
    assert rep_total == customers_in(org, "rep_a").count()
    assert rep_total < manager_total
    assert "定时报表" in by_address[rep.email].subject
    assert ReportDelivery.objects.filter(schedule=schedule, status="sent").count() == 2
    run = AuditEntry.objects.filter(action="report_schedule.run").latest("id")
    assert run.actor_id == manager.pk and run.params["sent"] == 2


@pytest.mark.django_db
def test_roles_reach_their_members_and_both_formats_attach(org, data) -> None:
    schedule = schedule_create(
        actor=org["analyst"],
        data=schedule_data(
            recipient_roles=[Role.objects.get(code="sales_rep")], file_format="both"
        ),
    )
    schedule_run_now(actor=org["analyst"], schedule=schedule)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([org["rep_a"].email, org["rep_b"].email])
    for message in mail.outbox:
        names = sorted(a[0].rsplit(".", 1)[1] for a in message.attachments)
        assert names == ["pdf", "xlsx"]
        pdf = next(a[1] for a in message.attachments if a[0].endswith(".pdf"))
        assert pdf.startswith(b"%PDF")


@pytest.mark.django_db
def test_recipient_who_lost_the_right_or_left_is_skipped(org, data) -> None:
    manager, rep_a, rep_b = org["manager"], org["rep_a"], org["rep_b"]
    schedule = schedule_create(
        actor=manager, data=schedule_data(recipient_users=[manager, rep_a, rep_b])
    )
    rep_a.roles.clear()  # lost every role, so reports.view_report too
    rep_b.is_active = False
    rep_b.save(update_fields=["is_active"])
    counts = schedule_run_now(actor=manager, schedule=schedule)
    assert counts == {"sent": 1, "skipped": 2, "failed": 0}
    assert [m.to[0] for m in mail.outbox] == [manager.email]
    reasons = dict(
        ReportDelivery.objects.filter(schedule=schedule).values_list("recipient_id", "error")
    )
    assert reasons[rep_a.pk] == "无查看统计报表权限"
    assert reasons[rep_b.pk] == "账号已停用"


@pytest.mark.django_db
def test_a_rep_schedules_for_themselves_only(org, data) -> None:
    rep = org["rep_a"]
    own = schedule_create(actor=rep, data=schedule_data(recipient_users=[rep]))
    assert own.created_by == rep and own.next_run_at is not None
    with pytest.raises(ValidationError) as refused:
        schedule_create(actor=rep, data=schedule_data(recipient_users=[rep, org["rep_b"]]))
    assert str(MSG_OTHERS) in str(refused.value)
    with pytest.raises(ValidationError):
        schedule_create(
            actor=rep,
            data=schedule_data(recipient_roles=[Role.objects.get(code="sales_rep")]),
        )
    assert ReportSchedule.objects.count() == 1
    failed = AuditEntry.objects.filter(action="report_schedule.create").latest("id")
    assert failed.result == "failed"


@pytest.mark.django_db
def test_bad_report_params_are_refused_when_saving(org, data) -> None:
    with pytest.raises(ValidationError) as refused:
        schedule_create(
            actor=org["manager"],
            data=schedule_data(recipient_users=[org["manager"]], params={"by": "nonsense"}),
        )
    assert "params" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        schedule_create(
            actor=org["manager"],
            data=schedule_data(recipient_users=[org["manager"]], weekday=None),
        )
    assert "weekday" in refused.value.message_dict


# -- the worker ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_due_schedules_run_once_and_move_on(org, data) -> None:
    manager = org["manager"]
    due = schedule_create(actor=manager, data=schedule_data(recipient_users=[manager]))
    off = schedule_create(
        actor=manager, data=schedule_data(name="停用", recipient_users=[manager], enabled=False)
    )
    assert off.next_run_at is None
    later = schedule_create(actor=manager, data=schedule_data(recipient_users=[manager]))
    now = timezone.now()
    ReportSchedule.objects.filter(pk__in=[due.pk, off.pk]).update(
        next_run_at=now - dt.timedelta(minutes=1)
    )
    assert run_due_schedules(now) == 1
    assert len(mail.outbox) == 1
    due.refresh_from_db()
    assert due.last_run_at is not None and "发送 1" in due.last_result
    assert due.next_run_at > now
    assert due.next_run_at.astimezone(SHANGHAI).weekday() == 0
    assert due.next_run_at.astimezone(SHANGHAI).time() == EIGHT
    assert run_due_schedules(now) == 0  # already moved on: nothing is sent twice
    assert len(mail.outbox) == 1
    assert not ReportDelivery.objects.filter(schedule__in=[off, later]).exists()


@pytest.mark.django_db
def test_update_and_delete_are_audited_and_scoped(org, data) -> None:
    from guanxi.core.errors import NotFound

    rep = org["rep_a"]
    mine = schedule_create(actor=rep, data=schedule_data(recipient_users=[rep]))
    with pytest.raises(NotFound):
        schedule_update(
            actor=org["rep_b"], schedule=mine, data=schedule_data(recipient_users=[org["rep_b"]])
        )
    schedule_update(
        actor=rep, schedule=mine, data=schedule_data(recipient_users=[rep], frequency="daily")
    )
    mine.refresh_from_db()
    assert mine.frequency == "daily" and mine.weekday is None
    update = AuditEntry.objects.filter(action="report_schedule.update").latest("id")
    assert update.changes["frequency"] == ["weekly", "daily"]
    schedule_delete(actor=org["admin"], schedule=mine)  # the manage right sees every schedule
    assert not ReportSchedule.objects.exists()
    assert AuditEntry.objects.filter(action="report_schedule.delete").exists()


@pytest.mark.django_db
def test_the_worker_job_is_registered_every_five_minutes(org, data) -> None:
    from guanxi.ops.schedule import registered_jobs

    spec = registered_jobs()["report_schedules"]
    assert spec.cron == "*/5 * * * *" and spec.retries == 0
    manager = org["manager"]
    due = schedule_create(actor=manager, data=schedule_data(recipient_users=[manager]))
    ReportSchedule.objects.filter(pk=due.pk).update(
        next_run_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert spec.body() == 1
    assert [m.to[0] for m in mail.outbox] == [manager.email]
