"""The daily digest e-mail: who gets one, what it says, once per user and day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from guanxi.workflow.digest import send_daily_digests
from guanxi.workflow.models import Reminder
from tests.conftest import make_user
from tests.workflow.task_support import at, make_task, set_customer

pytestmark = pytest.mark.django_db

MORNING = at(24, 8)


def _email(user, address: str) -> None:
    type(user).objects.filter(pk=user.pk).update(email=address)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run the digest job and deliver what it queued for after the commit."""

    def _send(now: dt.datetime = MORNING) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_daily_digests(now)

    return _send


def test_one_digest_with_overdue_today_and_follow_ups(org, make_customer, send):
    rep = org["rep_a"]
    _email(rep, "rep_a@example.com")
    customer = make_customer(rep)
    set_customer(customer, next_follow_up_at=at(24, 14, 30))
    make_task(rep, due_at=at(22, 9), title="报价单（逾期）", customer=customer)
    make_task(rep, due_at=at(24, 17), title="今天寄合同")
    make_task(rep, due_at=at(25, 9), title="明天的事")
    make_task(rep, due_at=at(23, 9), title="已完成的", status="done")
    assert send() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rep_a@example.com"]
    assert message.subject == "【关系 Guanxi】每日工作摘要 2026-11-24：3 项待处理"
    body = message.body
    assert body.startswith(f"{rep.display_name}，早上好！")
    assert "已逾期的待办（1）" in body and "报价单（逾期）" in body and customer.name in body
    assert "今天到期的待办（1）" in body and "今天寄合同（截止 11-24 17:00）" in body
    assert "今天需要跟进的客户（1）" in body and "14:30" in body
    assert "明天的事" not in body and "已完成的" not in body
    assert "/tasks/" in body
    once = Reminder.objects.get(rule="digest")
    assert once.recipient == rep and once.period == "2026-11-24"


def test_nobody_with_nothing_no_address_or_disabled_gets_mail(org, send):
    _email(org["rep_a"], "rep_a@example.com")  # nothing to do
    make_task(org["rep_b"], due_at=at(24, 17))  # no e-mail address
    gone = make_user("sales_rep", org["team_a"], email="gone@example.com", status="disabled")
    make_task(gone, due_at=at(24, 17))
    assert send() == 0
    assert mail.outbox == [] and not Reminder.objects.exists()


def test_once_per_day_then_again_tomorrow(org, send):
    rep = org["rep_a"]
    _email(rep, "rep_a@example.com")
    make_task(rep, due_at=at(24, 17))
    assert send() == 1
    assert send(MORNING + dt.timedelta(hours=2)) == 0
    assert len(mail.outbox) == 1
    # still open tomorrow: now overdue, in tomorrow's digest
    assert send(MORNING + dt.timedelta(days=1)) == 1
    assert "已逾期的待办（1）" in mail.outbox[1].body


def test_long_sections_are_cut_with_a_count(org, send):
    rep = org["rep_a"]
    _email(rep, "rep_a@example.com")
    for i in range(25):
        make_task(rep, due_at=at(24, 9, i) + dt.timedelta(hours=8), title=f"任务{i:02d}")
    send()
    body = mail.outbox[0].body
    assert "今天到期的待办（25）" in body and "……另有 5 项" in body and "任务19" in body
    assert "任务20" not in body
