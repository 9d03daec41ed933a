"""Personal information protection in a real browser: the data admin records a customer's
consent, downloads the person's copy, erases the personal data on request, and approves the
retention job's purge list while keeping one customer."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guanxi.customers.models import Customer
from guanxi.customers.privacy import build_retention_list
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_privacy_journey(
    live_server: Any, org: dict[str, Any], page: Page, make_customer: Any, tmp_path: Any
) -> None:
    person = make_customer(
        org["rep_a"],
        name="韩梅梅",
        customer_type="individual",
        contact_name="韩梅梅",
        mobile="13912347777",
    )
    base = live_server.url
    problems = watch_problems(page)
    sign_in(page, base, org["data_admin"])

    # 1. Record the consent she gave on the web form.
    page.goto(f"{base}/customers/{person.pk}/")
    page.get_by_role("link", name="＋ 登记处理依据").click()
    page.locator("select[name=basis]").select_option(label="个人同意")
    page.locator("input[name=scope]").fill("产品推荐短信")
    page.locator("input[name=source]").fill("官网表单")
    page.locator("input[name=given_at]").fill("2026-01-05T10:00")
    page.get_by_role("button", name="保存").click()
    consents = page.get_by_test_id("consents")
    expect(consents).to_contain_text("产品推荐短信")
    expect(consents).to_contain_text("有效")
    shot(page, "privacy-01-consent")

    # 2. Her copy, as Excel: the mobile in full.
    page.get_by_role("button", name="导出个人信息").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Excel（.xlsx）").click()
    target = tmp_path / "copy.xlsx"
    download.value.save_as(target)
    book = openpyxl.load_workbook(target)
    record = dict(book["客户信息"].iter_rows(min_row=2, values_only=True))
    assert record["手机号"] == "13912347777"

    # 3. She asks to be forgotten.
    page.get_by_role("link", name="清除个人信息").click()
    expect(page.get_by_test_id("erase-warning")).to_contain_text("不可撤销")
    page.locator("textarea[name=reason]").fill("本人来电要求删除个人信息")
    page.get_by_role("button", name="确认清除").click()
    expect(page.get_by_test_id("erased")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("已匿名客户")
    expect(page.get_by_role("link", name="编辑", exact=True)).to_have_count(0)
    shot(page, "privacy-02-erased")

    # 4. The retention job's list: keep one, erase the other.
    long_ago = timezone.now() - dt.timedelta(days=800)
    lost = [make_customer(org["rep_a"], name=n) for n in ("久未联系甲公司", "久未联系乙公司")]
    Customer.objects.filter(pk__in=[c.pk for c in lost]).update(
        status="lost", updated_at=long_ago, last_follow_up_at=long_ago
    )
    purge_list = build_retention_list()
    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="个人信息清除").click()
    page.get_by_role("link", name="查看").first.click()
    expect(page).to_have_url(re.compile(rf"/customers/retention/{purge_list.pk}/$"))
    page.get_by_label(f"保留 {lost[0].code}").check()
    shot(page, "privacy-03-purge-list")
    page.get_by_role("button", name="批准清除").click()
    expect(page.locator(".alert-success")).to_contain_text("1 个客户")
    assert Customer.objects.get(pk=lost[0].pk).erased_at is None
    assert Customer.objects.get(pk=lost[1].pk).erased_at is not None
    assert problems == []
