"""The tagging journey in a real browser: a manager filters the customer list, ticks every
row with the header checkbox and adds a tag, saves the filters as a segment, sees its live
count on 客户分群, and a rule's automatic tag shows 自动 with the rule name on the customer."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from guanxi.customers import tag_rules
from guanxi.customers.models import CustomerTag, Segment, Tag
from guanxi.customers.tag_rule_services import ensure_seed_rules
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tag_and_segment_journey(
    live_server: Any, org: dict[str, Any], make_customer: Any, page: Page
) -> None:
    ensure_seed_rules()
    manager = org["manager"]
    cooperating = [make_customer(org["rep_a"], status="cooperating") for _ in range(3)]
    make_customer(org["rep_b"])
    Tag.objects.create(name="重点客户", color="#6f42c1")
    tag_rules.evaluate_all()
    problems = watch_problems(page)
    base = live_server.url
    sign_in(page, base, manager)

    page.goto(f"{base}/customers/?status=cooperating")
    expect(page.get_by_test_id("customer-count")).to_contain_text("共 3 条")
    page.locator("input[data-select-all=ids]").check()
    form = page.get_by_test_id("bulk-tag-form")
    form.locator("select[name=tag]").select_option(label="重点客户")
    shot(page, "bulk-tagging")
    form.get_by_role("button", name="添加标签").click()
    expect(page.locator(".alert-success")).to_contain_text("已更新 3 个客户的标签")
    assert CustomerTag.objects.filter(tag__name="重点客户", rule__isnull=True).count() == 3

    page.get_by_test_id("save-segment-form").get_by_role("button", name="保存为分群").click()
    page.locator("input[name=name]").fill("合作客户")
    page.locator("input[name=shared]").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("分群“合作客户”已保存")
    row = page.locator("tr[data-segment=合作客户]")
    expect(row.get_by_test_id("segment-count")).to_have_text("3")
    assert Segment.objects.get().params == {"status": "cooperating"}
    shot(page, "segments")

    page.goto(f"{base}/customers/{cooperating[0].pk}/")
    auto = page.get_by_test_id("customer-tags").locator("[data-rule=流失风险]")
    expect(auto).to_contain_text("自动")
    expect(auto).to_have_attribute("title", "由标签规则“流失风险”自动打上")
    assert problems == []
