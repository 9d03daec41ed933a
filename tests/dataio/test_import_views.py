"""The import pages through real HTTP (Django's test client) with real CSV/XLSX files:
upload, mapping (with mistakes), dry-run preview, start, result, error report, undo,
progress polling, resume, templates, saved mappings, and who may see what."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.dataio import mapping
from guanxi.dataio.import_selectors import progress_of
from guanxi.dataio.importers import get_importer, object_types
from guanxi.dataio.models import ImportBatch, ImportMapping, ImportStatus

from .import_support import upload, write_csv, write_xlsx

pytestmark = pytest.mark.django_db

HEADERS = ["客户名称", "联系人", "联系手机", "备注"]  # "联系手机" is not recognised by itself
FORMULA_NAME = "=SUM(A1)贸易有限公司"
ROWS = [
    ["杭州甲子科技有限公司", "张三", "13800138001", "第一行"],
    [FORMULA_NAME, "李四", "1380013800", "手机号少一位"],
    ["已有客户有限公司", "王五", "13800138003", "与已有客户同名"],
]


def _file(tmp_path: Path, name: str = "客户.csv", rows: list[list[str]] | None = None) -> Path:
    return write_csv(tmp_path / name, [HEADERS, *(rows or ROWS)])


def _post_file(client: Any, path: Path, **extra: Any) -> Any:
    with open(path, "rb") as fh:
        return client.post("/import/", {"object_type": "customer", "file": fh, **extra})


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert match, name
    return match.group(0)


def _selected(html: str, name: str) -> str:
    found = re.search(r'<option value="([^"]*)" selected>', _select(html, name))
    return found.group(1) if found else ""


def _download(response: Any) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _grant(user: Any, codename: str) -> None:
    user.user_permissions.add(Permission.objects.get(codename=codename))


def test_upload_map_preview_start_report_undo(
    org, tmp_path, client_for, make_customer, django_capture_on_commit_callbacks
):
    admin = org["data_admin"]
    existing = make_customer(admin, name="已有客户有限公司")
    client = client_for(admin)

    home = client.get("/import/")
    assert home.status_code == 200
    assert "下载导入模板（客户）" in home.content.decode()

    # Upload: the mapping page recognises two columns and shows sample values.
    response = _post_file(client, _file(tmp_path))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/import/{batch.pk}/mapping/"
    page = client.get(response["Location"]).content.decode()
    assert _selected(page, "map-0") == "name" and _selected(page, "map-1") == "contact_name"
    assert _selected(page, "map-2") == "" and "13800138001" in page
    assert "11位中国大陆手机号" in page  # the field rules are listed

    # A wrong mapping: one field twice, a required field unmapped. Choices are kept.
    wrong = {"map-0": "name", "map-1": "name", "map-2": "mobile", "dedupe": "update"}
    response = client.post(f"/import/{batch.pk}/mapping/", wrong)
    assert response.status_code == 422
    page = response.content.decode()
    assert "被映射了多次" in page and "必填字段未映射：联系人" in page
    assert _selected(page, "map-1") == "name" and _selected(page, "map-2") == "mobile"
    assert 'value="update" checked' in page
    assert ImportBatch.objects.get().status == ImportStatus.UPLOADED

    # The right mapping, saved by name; the dry run runs (inline in tests).
    right = {"map-0": "name", "map-1": "contact_name", "map-2": "mobile", "map-3": "notes"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/import/{batch.pk}/mapping/", {**right, "dedupe": "skip", "save_as": "老系统客户表"}
        )
    assert response.status_code == 302 and response["Location"] == f"/import/{batch.pk}/"
    batch.refresh_from_db()
    assert batch.status == ImportStatus.VALIDATED
    assert ImportMapping.objects.get(name="老系统客户表").mapping["联系手机"] == "mobile"

    page = client.get(f"/import/{batch.pk}/").content.decode()
    bad = re.findall(r'<td class="table-danger" data-testid="bad-cell">(.*?)</td>', page, re.S)
    assert any("1380013800" in cell and "手机" in cell for cell in bad)
    assert "将新建" in page and "开始导入" in page and "下载错误报告" in page
    assert "与已有记录重复" in page  # the row-level note of the skipped row
    assert not Customer.objects.filter(name="杭州甲子科技有限公司").exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/import/{batch.pk}/start/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert (batch.created_count, batch.skipped_count, batch.error_count) == (1, 1, 1)
    page = client.get(f"/import/{batch.pk}/").content.decode()
    assert 'data-testid="done-counts"' in page and 'data-testid="import-progress"' in page
    assert "已处理 3 / 3 行" in page and "撤销后本批次新建的记录将被删除" in page
    link = re.search(r'href="([^"]*import_batch=\d+)"', page).group(1).replace("&amp;", "&")
    listed = client.get(link).content.decode()
    assert "杭州甲子科技有限公司" in listed and existing.name not in listed

    # The error report: the refused row as in the file (formula text kept as text) + details.
    response = client.get(f"/import/{batch.pk}/errors.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    book = _download(response)
    assert book.sheetnames == ["需修正的行", "错误明细"]
    rows = list(book["需修正的行"].iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADERS, "错误说明"]
    assert len(rows) == 2 and list(rows[1][:4]) == ROWS[1]
    assert "联系手机" in rows[1][4] and book["需修正的行"]["A2"].data_type == "s"
    details = list(book["错误明细"].iter_rows(values_only=True))
    assert details[0] == ("行号", "类型", "列", "原值", "原因")
    kinds = {(r[0], r[1]) for r in details[1:]}
    assert (3, "错误") in kinds and (4, "重复跳过") in kinds
    assert ("联系手机", "1380013800") in [r[2:4] for r in details[1:] if r[1] == "错误"]
    assert AuditEntry.objects.filter(action="import.error_report", object_id=str(batch.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/import/{batch.pk}/undo/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UNDONE
    assert not Customer.objects.filter(name="杭州甲子科技有限公司").exists()
    assert Customer.objects.filter(pk=existing.pk).exists()
    page = client.get(f"/import/{batch.pk}/").content.decode()
    assert 'data-testid="import-undone"' in page and 'data-testid="undo-import"' not in page


def test_only_the_owner_and_undo_holders_see_a_batch(org, tmp_path, client_for):
    batch = upload(
        org["rep_a"], _file(tmp_path, rows=[["某某有限公司", "张三", "13800138000", ""]])
    )
    other = client_for(org["rep_b"])
    for url in ("/", "/mapping/", "/progress/", "/errors.xlsx"):
        assert other.get(f"/import/{batch.pk}{url}").status_code == 404, url
    for url in ("/start/", "/undo/", "/resume/", "/restart/"):
        assert other.post(f"/import/{batch.pk}{url}").status_code == 404, url
    history = other.get("/import/").content.decode()
    assert batch.file_name not in history
    assert ImportBatch.objects.get().status == ImportStatus.UPLOADED

    assert client_for(org["rep_a"]).get(f"/import/{batch.pk}/").status_code == 200
    manager = org["manager"]
    assert client_for(manager).get(f"/import/{batch.pk}/").status_code == 404
    _grant(manager, "undo_importbatch")
    page = client_for(manager).get(f"/import/{batch.pk}/")
    assert page.status_code == 200
    assert batch.file_name in client_for(manager).get("/import/").content.decode()

    # Without any importer's permission there is no import page at all.
    assert client_for(org["service_rep"]).get("/import/").status_code == 403
    assert client_for(org["service_rep"]).get("/import/templates/customer.xlsx").status_code == 403


def test_a_file_that_is_not_a_table_is_refused_on_the_page(org, tmp_path, client_for):
    client = client_for(org["data_admin"])
    fake = tmp_path / "客户.csv"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    response = _post_file(client, fake)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="upload-errors"' in page and 'data-field-error="file"' in page
    assert "请重新选择文件" in page
    assert _selected(page, "object_type") == "customer"
    assert not ImportBatch.objects.exists()

    response = client.post("/import/", {"object_type": "customer"})
    assert response.status_code == 422 and "请选择要导入的文件" in response.content.decode()

    response = _post_file(client, _file(tmp_path), mapping="不存在的模板")
    assert response.status_code == 422 and "找不到映射模板" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_progress_is_computed_from_the_batch_alone():
    now = timezone.now()
    batch = ImportBatch(
        total_rows=1000, rows_done=600, started_rows=100, started_at=now - timedelta(seconds=10)
    )
    progress = progress_of(batch, now=now)
    assert (progress.done, progress.total, progress.percent) == (600, 1000, 60)
    assert progress.rate == 50 and progress.seconds_left == 8  # 500 rows in 10 s; 400 left
    fresh = progress_of(ImportBatch(total_rows=None, rows_done=0), now=now)
    assert (fresh.percent, fresh.rate, fresh.seconds_left) == (0, None, None)


def test_progress_polls_while_running_and_reloads_when_done(org, tmp_path, client_for):
    batch = upload(org["data_admin"], _file(tmp_path))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING,
        total_rows=1000,
        rows_done=600,
        started_rows=100,
        started_at=timezone.now() - timedelta(seconds=10),
        heartbeat_at=timezone.now(),
    )
    client = client_for(org["data_admin"])
    page = client.get(f"/import/{batch.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "已处理 600 / 1000 行" in page
    partial = client.get(f"/import/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200 and 'aria-valuenow="60"' in text
    assert re.search(r"每秒 \d+ 行 · 预计剩余 约 \d+ 秒", text)
    assert 'hx-trigger="every 1s"' in text  # keeps polling

    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.DONE)
    partial = client.get(f"/import/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 286 and partial["HX-Refresh"] == "true"


def test_interrupted_run_resumes_from_the_page(
    org, tmp_path, client_for, settings, django_capture_on_commit_callbacks
):
    admin = org["data_admin"]
    batch = upload(admin, _file(tmp_path, rows=[["某某有限公司", "张三", "13800138000", ""]]))
    batch.mapping = {"0": "name", "1": "contact_name", "2": "mobile"}
    batch.save()
    stale = timezone.now() - timedelta(seconds=settings.GUANXI_IMPORT_STALE_SECONDS + 5)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING, started_at=stale, heartbeat_at=stale, total_rows=1
    )
    client = client_for(admin)
    page = client.get(f"/import/{batch.pk}/").content.decode()
    assert 'data-testid="import-interrupted"' in page and "继续导入" in page and "重新开始" in page
    assert 'hx-trigger="every 1s"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/import/{batch.pk}/resume/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE and batch.created_count == 1
    # Resuming a finished batch is refused with the state error, not a crash.
    response = client.post(f"/import/{batch.pk}/resume/", follow=True)
    assert "ERR-025" in response.content.decode()


def test_template_imports_with_no_mapping_step(
    org, tmp_path, client_for, django_capture_on_commit_callbacks
):
    client = client_for(org["data_admin"])
    response = client.get("/import/templates/customer.xlsx")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["导入模板", "填写说明", "可选值"]
    sheet = book["导入模板"]
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["客户名称", "客户类型"] and "手机号" in headers
    name_cell = sheet.cell(1, headers.index("客户名称") + 1)
    assert name_cell.font.b and name_cell.font.color.rgb.endswith("C00000")
    assert name_cell.comment is not None and "必填" in name_cell.comment.text
    plain = sheet.cell(1, headers.index("备注") + 1).font
    assert plain.b and (plain.color is None or plain.color.type != "rgb")
    guide = {r[0]: r for r in book["填写说明"].iter_rows(min_row=2, values_only=True)}
    assert guide["客户名称"][1] == "是" and "名称" in guide["客户名称"][3]
    assert guide["身份证号"][1] == "否"  # fields outside the template are explained too
    allowed = {(r[0], r[1]) for r in book["可选值"].iter_rows(min_row=2, values_only=True)}
    assert ("客户类型", "企业客户") in allowed and ("客户来源", "网络推广") in allowed, allowed

    path = tmp_path / "客户导入模板.xlsx"
    path.write_bytes(data)
    response = _post_file(client, path)
    batch = ImportBatch.objects.get()
    assert len(batch.mapping) == len(headers)  # every column recognised
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/import/{batch.pk}/mapping/",
            {**{f"map-{i}": f for i, f in batch.mapping.items()}, "dedupe": "skip"},
        )
    batch.refresh_from_db()
    assert batch.dry_run["create"] == 1 and batch.dry_run["errors"] == 0, batch.preview
    assert client.get("/import/templates/order.xlsx").status_code == 404


def test_saved_mappings_apply_and_only_their_author_deletes_them(org, tmp_path, client_for):
    author, other = org["data_admin"], org["rep_a"]
    saved = ImportMapping.objects.create(
        name="老系统",
        object_type="customer",
        mapping={"客户名称": "name", "联系人": "contact_name", "联系手机": "mobile"},
        created_by=author,
    )
    response = _post_file(client_for(other), _file(tmp_path), mapping="老系统")
    assert response.status_code == 302
    assert ImportBatch.objects.get().mapping["2"] == "mobile"

    page = client_for(other).get("/import/").content.decode()
    assert "老系统" in page and 'data-testid="mapping-delete"' not in page
    response = client_for(other).post(f"/import/mappings/{saved.pk}/delete/", follow=True)
    assert "只能删除自己保存的映射模板" in response.content.decode()
    assert ImportMapping.objects.filter(pk=saved.pk).exists()
    assert AuditEntry.objects.filter(action="import.mapping_delete", result="denied").exists()

    client = client_for(author)
    assert 'data-testid="mapping-delete"' in client.get("/import/").content.decode()
    response = client.post(f"/import/mappings/{saved.pk}/delete/")
    assert response.status_code == 302 and not ImportMapping.objects.exists()
    entry = AuditEntry.objects.get(action="import.mapping_delete", result="success")
    assert entry.params["name"] == "老系统"


def test_history_page_query_budget(org, tmp_path, client_for, django_assert_max_num_queries):
    admin = org["data_admin"]
    for n in range(5):
        upload(admin, write_xlsx(tmp_path / f"f{n}.xlsx", [HEADERS, ROWS[0]]))
    _grant(admin, "undo_importbatch")
    client = client_for(admin)
    client.get("/import/")  # warm per-process caches
    with django_assert_max_num_queries(10):
        page = client.get("/import/").content.decode()
    assert all(f"f{n}.xlsx" in page for n in range(5))


@pytest.mark.parametrize("object_type", object_types())
def test_every_template_is_recognised_column_by_column(org, client_for, object_type):
    response = client_for(org["data_admin"]).get(f"/import/templates/{object_type}.xlsx")
    assert response.status_code == 200
    book = _download(response)
    headers = [c.value for c in book["导入模板"][1]]
    specs = get_importer(object_type).field_specs()
    assert len(mapping.suggest(headers, specs)) == len(headers)
    assert {str(s.label) for s in specs if s.required} <= set(headers)
    assert book["填写说明"].max_row == len(specs) + 1
