"""The review journey in a real browser: a sales rep creates a customer, the manager
approves it in the approval inbox, the rep asks for a new name, the manager rejects it
with a reason, and the rep sees that reason on the customer page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from guanxi.workflow.models import ApprovalFlow, ApprovalStep, ApproverKind
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_customer_journey import select_region
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "苏州评审示范科技有限公司"
NEW_NAME = "苏州评审示范智能科技有限公司"
REASON = "新名称与营业执照不一致"


def sign_in(page: Page, base: str, user: Any) -> None:
    """Switch user: sign in afresh."""
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))


def open_inbox_item(page: Page, summary: str) -> None:
    page.get_by_role("link", name="审批中心").first.click()
    expect(page.get_by_role("heading", name="审批中心")).to_be_visible()
    page.get_by_role("link", name=re.compile(summary)).first.click()


def test_review_and_rename_journey(live_server: Any, org: dict[str, Any], page: Page) -> None:
    rep, manager = org["rep_a"], org["manager"]
    org["team_a"].manager = manager
    org["team_a"].save()
    for step in ApprovalStep.objects.filter(flow__in=ApprovalFlow.objects.all()):
        step.approver_kind = ApproverKind.MANAGER  # the rep's department manager approves
        step.save()
    base = live_server.url
    problems = watch_problems(page)

    # 1. The rep creates a customer: it is 待审核 and cannot be edited yet.
    sign_in(page, base, rep)
    page.get_by_role("link", name="新建客户").first.click()
    page.locator("input[name=name]").fill(NAME)
    page.locator("input[name=contact_name]").fill("周评审")
    page.locator("input[name=mobile]").fill("13912340001")
    select_region(page, "province", "江苏省")
    select_region(page, "city", "苏州市")
    select_region(page, "district", "姑苏区")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    detail_url = page.url
    expect(page.locator("main")).to_contain_text("待审核")
    expect(page.get_by_role("link", name="编辑", exact=True)).to_have_count(0)
    shot(page, "approval-01-pending")

    # 2. The manager approves it in the inbox.
    sign_in(page, base, manager)
    open_inbox_item(page, NAME)
    shot(page, "approval-02-inbox-item")
    page.get_by_role("button", name="通过").click()
    expect(page.locator(".alert-success")).to_contain_text("已审批通过")

    # 3. The rep renames it: the name waits for approval.
    sign_in(page, base, rep)
    page.goto(detail_url)
    expect(page.locator("main")).to_contain_text("已审核")
    page.get_by_role("link", name="编辑", exact=True).click()
    page.locator("input[name=name]").fill(NEW_NAME)
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_test_id("rename-pending")).to_contain_text(NEW_NAME)
    expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()
    shot(page, "approval-03-rename-pending")

    # 4. The manager rejects the rename; a reject without a reason is refused first.
    sign_in(page, base, manager)
    open_inbox_item(page, "客户改名")
    page.get_by_role("button", name="驳回").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("驳回时必须填写原因")
    page.locator("textarea[name=comment]").fill(REASON)
    page.get_by_role("button", name="驳回").click()
    expect(page.locator(".alert-success")).to_contain_text("已驳回")

    # 5. The rep sees the reason on the customer page; the name is unchanged.
    sign_in(page, base, rep)
    page.goto(detail_url)
    expect(page.get_by_test_id("rename-rejected")).to_contain_text(REASON)
    expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()
    shot(page, "approval-04-rename-rejected")

    assert not problems, f"browser reported problems: {problems}"
