"""The follow-up journey in a real browser: a sales rep opens 我的跟进, records a follow-up
from the quick-entry modal (first with a mistake the modal explains), sees it at the top of
the customer's timeline, filters the timeline by kind and pages it with 加载更多."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guanxi.customers.models import Customer, FollowUp
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in
from tests.customers.test_timeline import _events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_follow_up_journey(
    live_server: Any, org: dict[str, Any], make_customer: Any, page: Page
) -> None:
    rep = org["rep_a"]
    customer = make_customer(rep, name="杭州跟进示范科技有限公司")
    Customer.objects.filter(pk=customer.pk).update(
        next_follow_up_at=timezone.now() - dt.timedelta(days=2)
    )
    _events(customer, rep, timezone.now() - dt.timedelta(days=3), interactions=25)
    problems = watch_problems(page)
    base = live_server.url
    sign_in(page, base, rep)

    page.get_by_role("link", name="我的跟进").click()
    row = page.get_by_test_id("due-row").filter(has_text=customer.name)
    expect(row).to_contain_text("逾期 2 天")
    row.get_by_test_id("quick-follow-up").click()
    modal = page.locator("#gx-entry-modal")
    expect(modal.get_by_test_id("follow-up-form")).to_be_visible()
    modal.get_by_role("button", name="保存").click()
    expect(modal.locator("[data-field-error=method]")).to_have_text("请选择跟进方式")
    modal.locator("#fu-method").select_option(label="电话")
    modal.locator("#fu-content").fill("电话沟通，客户确认下周来访")
    modal.locator("#fu-result").select_option(label="需求确认")
    modal.locator("#fu-next_plan").fill("准备演示方案")
    shot(page, "follow-up-modal")
    modal.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("跟进记录已保存")
    expect(page.get_by_test_id("due-row").filter(has_text=customer.name)).to_have_count(0)
    assert FollowUp.objects.get().next_plan == "准备演示方案"

    page.goto(f"{base}/customers/{customer.pk}/")
    items = page.get_by_test_id("timeline-item")
    expect(items.filter(has_text="电话沟通，客户确认下周来访")).to_have_count(1)
    expect(items).to_have_count(20)
    page.get_by_test_id("timeline-chips").get_by_role("link", name="互动").click()
    expect(items.first).to_have_attribute("data-kind", "interaction")
    expect(items).to_have_count(20)
    page.get_by_test_id("timeline-more").click()
    expect(items).to_have_count(25)
    expect(page.get_by_test_id("timeline-more")).to_have_count(0)
    shot(page, "follow-up-timeline")
    assert re.search(r"/customers/\d+/$", page.url)
    assert not problems, problems
