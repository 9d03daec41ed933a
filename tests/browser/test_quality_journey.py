"""The monthly quality check in a real browser: the data admin opens 数据质量, sees the
numbers, opens the sampled customers and marks one corrected with a note."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from guanxi.customers.models import QualityItem
from guanxi.customers.quality import sample
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_quality_journey(
    live_server: Any, org: dict[str, Any], page: Page, make_customer: Any
) -> None:
    first = make_customer(org["rep_a"], name="质量核查甲公司", industry="")
    make_customer(org["rep_a"], name="质量核查乙公司", email="b@example.com")
    check = sample(1)
    problems = watch_problems(page)
    sign_in(page, live_server.url, org["data_admin"])
    page.get_by_role("link", name="数据质量").click()
    expect(page.get_by_test_id("q-count")).to_have_text("2")
    expect(page.get_by_test_id("q-unverified")).to_have_text("2")
    expect(page.get_by_test_id("q-missing")).to_contain_text("所属行业")
    shot(page, "quality-01-overview")
    page.get_by_role("link", name="核查").first.click()
    row = page.get_by_test_id("quality-item").filter(has_text=first.code)
    row.get_by_label(f"更正说明 {first.code}").fill("补充了所属行业")
    shot(page, "quality-02-check")
    row.get_by_role("button", name="已更正").click()
    expect(page.locator(".alert-success")).to_contain_text(first.code)
    expect(page.get_by_test_id("quality-item")).to_have_count(1)
    item = QualityItem.objects.get(check_round=check, customer=first)
    assert (item.status, item.note) == ("corrected", "补充了所属行业")
    assert problems == []
