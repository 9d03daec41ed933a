"""One real browser journey through Guanxi: sign in, create a customer (with a validation
error on the way), find it by pinyin initials, change its status, sign out.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright's sync API against
pytest-django's ``live_server``. Screenshots go to ``$GUANXI_SCREENSHOT_DIR``
(default ``var/screenshots`` in the repository).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot, watch_problems
from tests.conftest import PASSWORD, customer_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "杭州张三丰贸易有限公司"
CONTACT = "张三丰"
GOOD_MOBILE = "13912345678"


def select_region(page: Page, field: str, value: str) -> None:
    """Wait for the JS-filled option, then pick it (cities/districts come from /regions/)."""
    select = page.locator(f"select[name={field}]")
    expect(select.locator("option", has_text=value)).to_have_count(1)
    select.select_option(label=value)


def test_customer_journey(live_server: Any, org: dict[str, Any], page: Page) -> None:
    from guanxi.customers.services import customer_create

    admin = org["admin"]
    for overrides in ({}, {"name": "上海浦江物流有限公司"}, {"name": "北京燕山软件有限公司"}):
        customer_create(actor=admin, data=customer_data(**overrides))

    base = live_server.url
    problems = watch_problems(page)

    # 1. The home page sends an anonymous visitor to the login page.
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_text("客户关系管理系统")).to_be_visible()
    shot(page, "01-login")
    page.locator("input[name=username]").fill(admin.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    # 2. Signed in, we land on the home dashboard; the menu leads to the customer list.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="首页看板")).to_be_visible()
    page.get_by_role("link", name="客户列表").first.click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.get_by_role("heading", name="客户列表")).to_be_visible()
    expect(page.locator("#customer-table")).to_contain_text("上海浦江物流有限公司")

    # 3. New customer with an invalid mobile: the error shows and the input is kept.
    page.get_by_role("link", name="新建客户").first.click()
    expect(page).to_have_url(re.compile(r"/customers/new/$"))
    page.locator("input[name=name]").fill(NAME)
    page.locator("input[name=contact_name]").fill(CONTACT)
    page.locator("input[name=mobile]").fill("12345")
    select_region(page, "province", "浙江省")
    select_region(page, "city", "杭州市")
    select_region(page, "district", "西湖区")
    page.get_by_role("button", name="保存").click()

    mobile_error = page.locator("[data-field-error=mobile]")
    expect(mobile_error).to_be_visible()
    expect(mobile_error).to_contain_text("手机")
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.locator("input[name=name]")).to_have_value(NAME)
    expect(page.locator("input[name=contact_name]")).to_have_value(CONTACT)
    expect(page.locator("select[name=city]")).to_have_value("杭州市")
    shot(page, "02-form-errors")

    # 4. Fix the mobile and save: the detail page shows the name and a CUST code.
    page.locator("input[name=mobile]").fill(GOOD_MOBILE)
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    detail_url = page.url
    expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()
    expect(page.locator("dd .font-monospace").first).to_have_text(re.compile(r"^CUST"))
    shot(page, "03-detail")

    # 5. Search the list by pinyin initials.
    page.get_by_role("link", name="客户列表").first.click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    table = page.locator("#customer-table")
    expect(table).to_contain_text("上海浦江物流有限公司")
    search = page.locator("input[name=q]")
    search.fill("zsf")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=zsf"))
    expect(table).to_contain_text(NAME)
    expect(table).not_to_contain_text("上海浦江物流有限公司")
    shot(page, "04-search")

    # 6. Open the customer and change its status through the dialog.
    table.get_by_role("link", name=NAME).first.click()
    expect(page).to_have_url(detail_url)
    page.get_by_test_id("change-status").click()
    dialog = page.locator("#status-modal")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=status]").select_option(label="合作客户")
    dialog.locator("textarea[name=reason]").fill("签约")
    dialog.get_by_role("button", name="确认变更").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_test_id("status")).to_have_text("合作客户")
    history = page.locator("#status-history")
    expect(history).to_contain_text("合作客户")
    expect(history).to_contain_text("签约")
    shot(page, "05-history")

    # 7. Sign out through the top bar and its confirmation.
    page.locator("nav.gx-topbar").get_by_role("link", name="退出").click()
    logout = page.locator("#gx-logout-modal")
    expect(logout).to_be_visible()
    expect(logout).to_contain_text("是否确认退出？")
    logout.get_by_role("button", name="确认").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.locator("input[name=username]")).to_be_visible()
    shot(page, "06-logout")

    assert not problems, f"browser reported problems: {problems}"
