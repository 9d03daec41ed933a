"""The duplicates journey in a real browser: a sales manager enters a customer whose name is
a restyled form of an existing one and is warned with the candidate before saving; the data
admin finds the pair in the 重复客户 report, merges it choosing the newer mobile, and the
merge record shows what happened."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from guanxi.customers.models import Customer
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in
from tests.browser.test_customer_journey import select_region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXISTING = "深圳市明远精密机械有限公司"
RESTYLED = "明远精密机械（深圳）股份有限公司"


def test_similar_name_warning_and_merge_journey(
    live_server: Any, org: dict[str, Any], page: Page, make_customer: Any
) -> None:
    first = make_customer(org["manager"], name=EXISTING, mobile="13912340101")
    base = live_server.url
    problems = watch_problems(page)

    # 1. The manager enters the restyled name: warned with the candidate, nothing saved.
    sign_in(page, base, org["manager"])
    page.get_by_role("link", name="新建客户").first.click()
    page.locator("input[name=name]").fill(RESTYLED)
    page.locator("input[name=contact_name]").fill("陈工")
    page.locator("input[name=mobile]").fill("13912340102")
    select_region(page, "province", "广东省")
    select_region(page, "city", "深圳市")
    select_region(page, "district", "南山区")
    page.get_by_role("button", name="保存").click()
    warning = page.get_by_test_id("similar")
    expect(warning).to_contain_text(EXISTING)
    expect(warning).to_contain_text("相似度 100%")
    shot(page, "merge-01-similar-warning")
    assert Customer.objects.count() == 1

    # 2. Confirmed as a different record on purpose (it is the same company, entered twice).
    page.get_by_label("我已核对，确认不是同一客户，仍然保存").check()
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    second = Customer.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))

    # 3. The data admin finds the pair and merges it, keeping the newer mobile.
    sign_in(page, base, org["data_admin"])
    page.get_by_role("link", name="重复客户").click()
    group = page.get_by_test_id("duplicate-group").filter(has_text=first.code)
    expect(group).to_contain_text(second.code)
    shot(page, "merge-02-report")
    group.get_by_role("link", name="合并").click()
    expect(page.get_by_test_id("merge-table")).to_be_visible()
    page.locator("#c-mobile-m").check()
    page.locator("#merge-reason").fill("同一家公司重复录入")
    shot(page, "merge-03-tool")
    page.get_by_role("button", name="确认合并").click()

    # 4. The merge record tells what happened; the survivor carries the chosen mobile.
    expect(page.locator(".alert-success")).to_contain_text("已将客户")
    expect(page.get_by_test_id("merged-code")).to_have_text(second.code)
    shot(page, "merge-04-record")
    first.refresh_from_db()
    assert first.mobile == "13912340102"
    assert not Customer.objects.alive().filter(pk=second.pk).exists()

    assert not problems, f"browser reported problems: {problems}"
