"""The export journey in a real browser: an admin filters the customer list, opens the 导出
menu and downloads a CSV of exactly the filtered rows; a large export (threshold lowered)
goes to 我的导出, where the file is downloaded once written."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _csv(download: Any) -> list[dict[str, str]]:
    with open(download.path(), encoding="utf-8-sig") as fh:
        return list(csv.DictReader(io.StringIO(fh.read())))


def test_export_journey(
    live_server: Any, org: dict[str, Any], make_customer: Any, page: Page, settings: Any, tmp_path
) -> None:
    settings.DATA_DIR = tmp_path
    admin = org["admin"]
    make_customer(admin, name="导出示范甲有限公司", status="cooperating")
    make_customer(admin, name="导出示范乙有限公司", status="cooperating")
    make_customer(admin, name="导出示范丙有限公司")
    problems = watch_problems(page)
    base = live_server.url
    sign_in(page, base, admin)

    page.goto(f"{base}/customers/?status=cooperating")
    menu = page.get_by_test_id("export-form")
    menu.get_by_role("button", name="导出").click()
    expect(menu.get_by_role("button", name="PDF")).to_be_visible()
    shot(page, "export-menu")
    with page.expect_download() as csv_download:
        menu.get_by_role("button", name="CSV").click()
    rows = _csv(csv_download.value)
    assert sorted(r["客户名称"] for r in rows) == ["导出示范乙有限公司", "导出示范甲有限公司"]

    settings.GUANXI_EXPORT_BACKGROUND_ROWS = 1
    menu.get_by_role("button", name="导出").click()
    menu.get_by_role("button", name="Excel（.xlsx）").click()
    expect(page.get_by_role("heading", name="我的导出")).to_be_visible()
    expect(page.locator(".alert")).to_contain_text("已转为后台导出")
    job = page.get_by_test_id("export-job").first
    expect(job).to_contain_text("已完成")
    shot(page, "export-jobs")
    with page.expect_download() as xlsx_download:
        job.get_by_test_id("export-download").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")

    # The other lists carry the same menu: 联系人 and 我的跟进 (page rows, or one's records).
    page.get_by_role("link", name="我的跟进").click()
    expect(page.get_by_test_id("export-form")).to_be_visible()
    page.get_by_test_id("export-follow-ups-form").get_by_role("button").first.click()
    shot(page, "export-due-menus")
    page.get_by_role("link", name="联系人").first.click()
    expect(page.get_by_test_id("export-form")).to_be_visible()
    assert not problems, problems
