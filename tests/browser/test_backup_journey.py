"""Backups in a real browser: the admin opens 数据备份, takes a backup, then restores an
earlier one on 数据恢复 — refused until the backup id is typed, done after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from guanxi.customers.models import Customer
from guanxi.ops.backup_models import Backup, RestoreLog
from guanxi.ops.backup_service import backup_create
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_backup_and_restore_journey(
    live_server: Any,
    org: dict[str, Any],
    page: Page,
    make_customer: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.GUANXI_BACKUP_DIR = tmp_path / "backups"
    settings.GUANXI_BACKUP_OFFSITE_DIR = str(tmp_path / "offsite")
    settings.MEDIA_ROOT = tmp_path / "media"
    make_customer(org["rep_a"], name="备份前的客户")
    full = backup_create(kind="full")
    make_customer(org["rep_a"], name="备份后的客户")
    problems = watch_problems(page)
    sign_in(page, live_server.url, org["admin"])

    page.get_by_role("link", name="数据备份").click()
    expect(page.get_by_role("heading", name="数据备份")).to_be_visible()
    expect(page.get_by_test_id("backup-table")).to_contain_text(full.backup_id)
    page.get_by_role("button", name="立即备份").click()
    expect(page.locator(".alert-success")).to_contain_text("已开始增量备份")
    incremental = Backup.objects.get(kind="incremental")
    expect(page.get_by_test_id("backup-table")).to_contain_text(incremental.backup_id)
    shot(page, "backup-01-list")

    page.get_by_role("link", name="数据恢复").click()
    expect(page.get_by_test_id("restore-warning")).to_contain_text("当前数据将被覆盖")
    page.get_by_label("类型").select_option("full")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_test_id("restore-table")).not_to_contain_text(incremental.backup_id)
    page.get_by_label(f"选择 {full.backup_id}").check()
    page.get_by_label("输入备份编号确认").fill("确定")
    page.get_by_role("button", name="恢复", exact=True).click()
    expect(page.locator(".invalid-feedback")).to_contain_text("请输入所选备份的编号以确认恢复")
    assert Customer.objects.count() == 2 and not RestoreLog.objects.exists()
    shot(page, "backup-02-confirm")

    page.get_by_label(f"选择 {full.backup_id}").check()
    page.get_by_label("输入备份编号确认").fill(full.backup_id)
    # A restore takes a safety backup first: give it more than the default 10 s.
    with page.expect_navigation(timeout=120_000):
        page.get_by_role("button", name="恢复", exact=True).click(no_wait_after=True)
    expect(page.locator(".alert-success")).to_contain_text(f"已恢复到备份 {full.backup_id}")
    expect(page.get_by_test_id("restore-logs")).to_contain_text("成功")
    shot(page, "backup-03-restored")
    assert list(Customer.objects.values_list("name", flat=True)) == ["备份前的客户"]
    assert RestoreLog.objects.get().ok
    assert problems == []
