"""One real browser journey through Guanxi: sign in, create a customer (with a validation
error on the way), find it by pinyin initials, change its status, sign out.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright's sync API against
pytest-django's ``live_server``. Screenshots go to ``$GUANXI_SCREENSHOT_DIR``
(default ``var/screenshots`` in the repository).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import PASSWORD, customer_data

# Playwright's sync API runs an event loop in the test thread; Django's ORM would otherwise
# refuse to run from it (SynchronousOnlyOperation) in fixtures and teardown.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(
    os.environ.get(
        "GUANXI_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots"
    )
)

NAME = "杭州张三丰贸易有限公司"
CONTACT = "张三丰"
GOOD_MOBILE = "13912345678"


@pytest.fixture
def page() -> Iterator[Page]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing on CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1366, "height": 900}, timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        pg = context.new_page()
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def watch_problems(page: Page) -> list[str]:
    """Collect uncaught JS errors, console errors, server errors and missing static files.

    Chromium logs every 4xx document as a console error; the 422 of an invalid form is
    expected, so bad responses are judged from the responses themselves instead.
    """
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console: {msg.text}")

    def on_response(response: Any) -> None:
        if response.status >= 500 or (response.status == 404 and "/static/" in response.url):
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url} {req.failure}"))
    return problems


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


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

    # 2. Signed in, we land on the customer list.
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
    page.get_by_role("link", name="状态变更").click()
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
