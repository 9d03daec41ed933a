"""The issue's journey in a real browser: a sales rep records a phone follow-up with a next
step tomorrow; the next day (time moved by running the reminder job at tomorrow's time)
the reminder is in the bell and on 待办任务, and the rep completes the task."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guanxi.customers.models import Customer, FollowUp
from guanxi.workflow.models import Reminder, Task, TaskStatus
from guanxi.workflow.reminders import run_reminders
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_follow_up_reminder_task_journey(
    live_server: Any, org: dict[str, Any], make_customer: Any, page: Page
) -> None:
    rep = org["rep_a"]
    customer = make_customer(rep, name="苏州提醒示范精密机械有限公司")
    tomorrow_ten = timezone.localtime().replace(
        hour=10, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=1)
    problems = watch_problems(page)
    sign_in(page, live_server.url, rep)

    # Today: a phone call, next step tomorrow at 10:00.
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_test_id("add-follow-up").click()
    modal = page.locator("#gx-entry-modal")
    expect(modal.get_by_test_id("follow-up-form")).to_be_visible()
    modal.locator("#fu-method").select_option(label="电话")
    modal.locator("#fu-content").fill("电话沟通采购计划，客户希望明天看报价")
    modal.locator("#fu-result").select_option(label="需求确认")
    modal.locator("#fu-next_follow_up_at").fill(tomorrow_ten.strftime("%Y-%m-%dT%H:%M"))
    modal.locator("#fu-next_plan").fill("发送报价并电话确认")
    modal.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("跟进记录已保存")
    expect(page.get_by_test_id("next-follow-up")).to_contain_text(
        tomorrow_ten.strftime("%Y-%m-%d 10:00")
    )
    follow_up = FollowUp.objects.get(customer=customer)
    assert (follow_up.method, follow_up.owner_id) == ("phone", rep.pk)
    customer.refresh_from_db()
    assert customer.next_follow_up_at == tomorrow_ten
    assert customer.last_follow_up_at == follow_up.followed_at

    # Nothing is due today; tomorrow shortly before ten the job fires once, however often
    # it runs.
    assert run_reminders(now=timezone.now())["followup_due"] == 0
    next_morning = tomorrow_ten - dt.timedelta(minutes=10)
    assert run_reminders(now=next_morning)["followup_due"] == 1
    assert run_reminders(now=next_morning + dt.timedelta(minutes=5))["followup_due"] == 0
    assert Reminder.objects.filter(rule="followup_due", recipient=rep).count() == 1

    # The next day: the bell shows it, the task waits on 待办任务.
    page.reload()
    expect(page.get_by_test_id("bell")).to_contain_text("1")
    page.get_by_test_id("bell").click()
    expect(page.get_by_test_id("notification").first).to_contain_text(customer.name)
    page.get_by_role("link", name="待办任务").click()
    row = page.get_by_test_id("task-row").filter(has_text=customer.name)
    expect(row).to_have_count(1)
    shot(page, "reminder-01-task")
    row.get_by_test_id("task-complete").click()
    task = Task.objects.get(customer=customer, rule="followup_due")
    expect(
        page.get_by_test_id("task-done").or_(page.locator(".alert-success")).first
    ).to_be_visible()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_by_id == rep.pk
    shot(page, "reminder-02-done")
    assert Customer.objects.get(pk=customer.pk).next_follow_up_at == tomorrow_ten
    assert not problems, problems
