"""A customer import in a real browser: the data admin uploads a file whose mobile column
is not recognised, maps it by hand, sees the bad cell in the preview, imports, downloads the
error report and undoes the import; a running import's progress bar polls and the page
switches to the result by itself when the run ends."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guanxi.customers.models import Customer
from guanxi.dataio.models import ImportBatch, ImportStatus
from tests.browser.conftest import shot, watch_problems
from tests.browser.test_approval_journey import sign_in
from tests.dataio.import_support import upload, write_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADERS = ["客户名称", "联系人", "联系手机", "地址", "备注"]
ROWS = [
    ["杭州明前茶业有限公司", "陈一", "13800138011", "浙江省杭州市西湖区龙井路1号", "春茶客户"],
    ["宁波港湾物流有限公司", "周二", "1380013801", "浙江省宁波市北仑区港湾路8号", "手机号少一位"],
    ["温州瓯江鞋业有限公司", "吴三", "13800138013", "浙江省温州市鹿城区人民路3号", ""],
]
BAD_MOBILE = "1380013801"


def test_import_journey(live_server: Any, org: dict[str, Any], page: Page, tmp_path: Any) -> None:
    base = live_server.url
    problems = watch_problems(page)
    admin = org["data_admin"]
    path = write_csv(tmp_path / "浙江客户.csv", [HEADERS, *ROWS])

    # 1. 数据导入 from the menu; upload the file.
    sign_in(page, base, admin)
    page.get_by_role("link", name="数据导入").click()
    expect(page).to_have_url(re.compile(r"/import/$"))
    expect(page.get_by_role("heading", name="数据导入", level=1)).to_be_visible()
    expect(page.get_by_test_id("template-links")).to_contain_text("下载导入模板（客户）")
    page.locator("select[name=object_type]").select_option("customer")
    page.locator("input[name=file]").set_input_files(str(path))
    shot(page, "import-01-upload")
    page.get_by_role("button", name="上传并识别列").click()

    # 2. The mapping page: "联系手机" is not recognised; map it to 手机号 by hand.
    expect(page).to_have_url(re.compile(r"/import/\d+/mapping/$"))
    mobile = page.locator("select[name=map-2]")
    expect(mobile).to_have_value("")
    expect(page.locator("select[name=map-0]")).to_have_value("name")
    expect(page.locator("tr[data-column=联系手机]")).to_contain_text("13800138011")
    mobile.select_option(label="手机号")
    expect(page.get_by_label("跳过重复")).to_be_checked()
    shot(page, "import-02-mapping")
    page.get_by_role("button", name="校验并预览").click()

    # 3. The dry run's preview: the bad mobile is marked in its cell, nothing is written yet.
    expect(page).to_have_url(re.compile(r"/import/\d+/$"))
    batch_url = page.url
    bad = page.get_by_test_id("bad-cell")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text(BAD_MOBILE)
    expect(bad).to_contain_text("手机")
    expect(page.get_by_test_id("dry-run")).to_contain_text("将新建")
    expect(page.locator("tr[data-row='3']")).to_contain_text("错误")
    assert not Customer.objects.filter(name=ROWS[0][0]).exists()
    shot(page, "import-03-preview")

    # 4. Start: the worker runs inline here, so the result is there at once, progress at 100%.
    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("import-status")).to_have_text("已完成")
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_have_attribute("data-rows-done", "3")
    expect(progress.get_by_test_id("progress-rows")).to_have_text("已处理 3 / 3 行")
    expect(progress.locator(".progress-bar")).to_have_text("100%")
    expect(page.get_by_test_id("done-counts")).to_contain_text("新建")
    assert Customer.objects.filter(import_batch__isnull=False).count() == 2
    shot(page, "import-04-done")

    # 5. The error report holds the bad row as it was in the file.
    with page.expect_download() as download:
        page.get_by_test_id("error-report").click()
    target = tmp_path / "report.xlsx"
    download.value.save_as(target)
    rows = list(openpyxl.load_workbook(target)["需修正的行"].iter_rows(values_only=True))
    assert rows[0] == (*HEADERS, "错误说明")
    assert len(rows) == 2 and rows[1][0] == ROWS[1][0] and rows[1][2] == BAD_MOBILE

    # 6. The imported customers, then undo through the confirmation dialog.
    page.get_by_test_id("imported-records").click()
    expect(page).to_have_url(re.compile(r"/customers/\?import_batch=\d+$"))
    expect(page.locator("#customer-table")).to_contain_text(ROWS[0][0])
    page.goto(batch_url)
    page.get_by_test_id("undo-import").click()
    dialog = page.locator("#undo-modal")
    expect(dialog).to_contain_text("撤销后本批次新建的记录将被删除、更新的记录恢复原值，是否确认？")
    dialog.get_by_role("button", name="确认撤销").click()
    expect(page.get_by_test_id("import-undone")).to_be_visible()
    assert not Customer.objects.filter(name=ROWS[0][0]).exists()

    # 7. A run in progress: the bar polls, and the page shows the result once it ends.
    running = upload(admin, write_csv(tmp_path / "大文件.csv", [HEADERS, ROWS[0]]))
    ImportBatch.objects.filter(pk=running.pk).update(
        status=ImportStatus.RUNNING,
        total_rows=10,
        rows_done=4,
        started_at=timezone.now() - timedelta(seconds=8),
        heartbeat_at=timezone.now(),
    )
    page.goto(f"{base}/import/{running.pk}/")
    rows_text = page.get_by_test_id("progress-rows")
    expect(rows_text).to_have_text("已处理 4 / 10 行")
    ImportBatch.objects.filter(pk=running.pk).update(rows_done=7, heartbeat_at=timezone.now())
    expect(rows_text).to_have_text("已处理 7 / 10 行")  # the poll, no reload
    expect(page.get_by_test_id("progress-rate")).to_contain_text("预计剩余")
    shot(page, "import-05-progress")
    ImportBatch.objects.filter(pk=running.pk).update(
        status=ImportStatus.DONE, rows_done=10, created_count=10, finished_at=timezone.now()
    )
    expect(page.get_by_test_id("import-status")).to_have_text("已完成")
    expect(page.get_by_test_id("done-counts")).to_contain_text("10")

    assert not problems, f"browser reported problems: {problems}"
