"""Custom fields in a real browser: the admin defines two fields, a manager fills them on a
new customer, finds the customer through the new list filter and column, and exports the
filtered list to Excel with the new columns in it."""

from __future__ import annotations

import re
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from guanxi.core.models import CustomField
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in
from tests.browser.test_customer_journey import select_region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_field(page: Page, label: str, key: str, kind: str, *, dictionary: str = "") -> None:
    page.get_by_role("link", name="＋ 新增字段").click()
    page.locator("input[name=label]").fill(label)
    page.locator("input[name=key]").fill(key)
    page.locator("select[name=field_type]").select_option(kind)
    if dictionary:
        page.locator("select[name=dictionary_id]").select_option(label=dictionary)
    page.get_by_label("在列表中显示").check()
    page.get_by_label("可作为筛选条件").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(f"tr[data-custom-field={key}]")).to_contain_text(label)


def test_custom_field_journey(
    live_server: Any, org: dict[str, Any], page: Page, make_customer: Any, tmp_path: Any
) -> None:
    make_customer(org["manager"], name="没有扩展信息的公司")
    base = live_server.url
    problems = watch_problems(page)

    # 1. The admin adds a choice field and a money field.
    sign_in(page, base, org["admin"])
    page.get_by_role("link", name="自定义字段").click()
    add_field(page, "合作等级", "level", "choice", dictionary="客户分类（customer_category）")
    add_field(page, "授信额度", "credit", "money")
    shot(page, "custom-01-definitions")
    assert CustomField.objects.count() == 2

    # 2. A manager fills them on a new customer; a bad amount is explained first.
    sign_in(page, base, org["manager"])
    page.get_by_role("link", name="新建客户").first.click()
    page.locator("input[name=name]").fill("扩展信息测试有限公司")
    page.locator("input[name=contact_name]").fill("李工")
    page.locator("input[name=mobile]").fill("13912348888")
    select_region(page, "province", "广东省")
    select_region(page, "city", "深圳市")
    select_region(page, "district", "南山区")
    page.locator("select[name=cf_level]").select_option(label="VIP客户")
    page.locator("input[name=cf_credit]").fill("12.345")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("[data-field-error=cf_credit]")).to_contain_text("最多两位小数")
    page.locator("input[name=cf_credit]").fill("¥1,500,000")
    shot(page, "custom-02-form")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    expect(page.locator("[data-custom-value=level]")).to_have_text("VIP客户")
    expect(page.locator("[data-custom-value=credit]")).to_have_text("1,500,000.00")
    shot(page, "custom-03-detail")

    # 3. The list shows the columns and filters on the new field.
    page.get_by_role("link", name="客户列表").first.click()
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(page.locator("th[data-custom-column=credit]")).to_be_visible()
    page.locator("select[name=cf_level]").select_option(label="VIP客户")
    expect(page).to_have_url(re.compile(r"cf_level=vip"))
    expect(page.get_by_test_id("customer-count")).to_have_text("共 1 条")
    expect(page.locator("#customer-table")).to_contain_text("扩展信息测试有限公司")
    expect(page.locator("#customer-table")).not_to_contain_text("没有扩展信息的公司")
    shot(page, "custom-04-list-filtered")

    # 4. Export what is on screen: one row, with the new columns.
    page.get_by_role("button", name="导出").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Excel（.xlsx）").click()
    target = tmp_path / "customers.xlsx"
    download.value.save_as(target)
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    header = rows[0]
    assert len(rows) == 2 and rows[1][header.index("客户名称")] == "扩展信息测试有限公司"
    assert rows[1][header.index("合作等级")] == "VIP客户"
    assert rows[1][header.index("授信额度")] == 1500000
    assert problems == []
