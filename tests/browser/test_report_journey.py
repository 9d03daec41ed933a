"""The report journey in a real browser: an analyst opens the home dashboard (charts drawn as
SVG), clicks the 合作客户 bar and lands on the customer list filtered to exactly those
customers, then opens 区域分布, clicks 广东 on the map and drills into its cities."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Convert a data point of chart ``id`` to page coordinates (ECharts' own public API), so a
# test clicks the bar or region a person would click.
POINT_OF = """([id, point]) => {
  const el = document.getElementById(id);
  el.scrollIntoView({block: "center"});
  const chart = echarts.getInstanceByDom(el);
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, point);
  const box = el.getBoundingClientRect();
  return [box.left + x, box.top + y];
}"""


def click_point(page: Page, chart_id: str, point: list[Any], opens: re.Pattern[str]) -> None:
    """Click a data point and wait for the page it opens. A click that lands while the
    chart is still settling (a resize, a late layout) is repeated, as a person would."""
    for _attempt in range(3):
        x, y = page.evaluate(POINT_OF, [chart_id, point])
        page.mouse.click(x, y)
        try:
            page.wait_for_url(opens, timeout=3000)
            return
        except PlaywrightTimeoutError:
            continue
    expect(page).to_have_url(opens)


def test_report_journey(
    live_server: Any, org: dict[str, Any], make_customer: Any, page: Page
) -> None:
    rep, admin = org["rep_a"], org["admin"]
    for status, province, city in (
        ("cooperating", "广东省", "广州市"),
        ("cooperating", "广东省", "深圳市"),
        ("cooperating", "北京市", "北京市"),
        ("potential", "广东省", "深圳市"),
        ("lost", "内蒙古自治区", "呼和浩特市"),
    ):
        make_customer(rep, status=status, province=province, city=city, district="")
    make_customer(admin, status="potential", province="浙江省", city="杭州市", district="")
    problems = watch_problems(page)
    base = live_server.url
    sign_in(page, base, org["analyst"])

    # 1. The home page is the dashboard: KPI cards and charts drawn as SVG.
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="首页看板")).to_be_visible()
    expect(page.get_by_test_id("kpi-value").first).to_have_text("6")
    for index in range(6):
        expect(page.locator(f"#gx-chart-{index}")).to_have_attribute("data-ready", "1")
        assert page.locator(f"#gx-chart-{index} svg path").count() > 0
    shot(page, "report-dashboard")

    # 2. A click on the 合作客户 bar opens the list filtered to exactly those customers.
    categories = page.evaluate(
        "() => JSON.parse(document.getElementById('gx-charts').textContent)[0].categories"
    )
    values = page.evaluate(
        "() => JSON.parse(document.getElementById('gx-charts').textContent)[0].series[0].values"
    )
    index = categories.index("合作客户")
    click_point(
        page,
        "gx-chart-0",
        [index, values[index] / 2],
        re.compile(r"/customers/\?status=cooperating$"),
    )
    expect(page.get_by_test_id("customer-count")).to_have_text(f"共 {values[index]} 条")
    assert values[index] == 3
    expect(page.locator("#customer-table tbody tr")).to_have_count(3)

    # 3. 区域分布: the map; a click on 广东 drills into its cities.
    page.get_by_role("link", name="区域分布").click()
    expect(page.locator("#gx-chart-0")).to_have_attribute("data-ready", "1")
    assert page.locator("#gx-chart-0 svg path").count() > 30
    shot(page, "report-region")
    click_point(page, "gx-chart-0", [113.27, 23.13], re.compile(r"/reports/region/\?province="))
    assert parse_qs(urlparse(page.url).query)["province"] == ["广东省"]
    rows = page.get_by_test_id("report-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("深圳市")
    expect(page.get_by_test_id("report-totals")).to_contain_text("3")
    shot(page, "report-region-province")

    # 4. A city row opens the list of exactly its customers.
    rows.first.get_by_test_id("row-link").click()
    expect(page).to_have_url(re.compile(r"/customers/\?"))
    expect(page.get_by_test_id("customer-count")).to_have_text("共 2 条")
    assert not problems, problems
