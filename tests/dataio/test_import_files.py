"""Real files as companies bring them, imported end to end: an XLSX written by LibreOffice,
a GBK CSV, a sheet with merged cells and blank rows, a sheet whose cells are formulas, and
files that are not tables or break a bound."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from guanxi.customers.models import Customer
from guanxi.dataio import import_services
from guanxi.dataio.readers import UploadRejected

from .import_support import TEMPLATE_HEADERS, issues, run, write_csv

pytestmark = pytest.mark.django_db


def _libreoffice(source: Path, tmp_path: Path) -> Path:
    """Convert ``source`` to XLSX with LibreOffice, as a user saving from Calc would."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required in CI (Debian package libreoffice-calc-nogui)")
        pytest.skip("LibreOffice is not installed")
    out = tmp_path / "lo-out"
    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--infilter=CSV:44,34,76,1",  # CSV sources: comma, double quote, UTF-8
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out / (source.stem + ".xlsx")


def _row(n: int, mobile: str | None = None, source: str = "展会") -> list[str]:
    return [
        f"文件测试{n:03d}有限公司",
        "企业客户",
        "制造业",
        "李四",
        "总经理",
        mobile or f"1370000{n:04d}",
        f"li{n}@example.com",
        source,
        "",
        "北京市海淀区中关村大街1号",
        "",
    ]


def test_xlsx_written_by_libreoffice(org, tmp_path):
    # Phone numbers as numbers (what a sheet holds when someone types them), one bad.
    rows = [",".join(TEMPLATE_HEADERS)]
    for n in range(1, 6):
        rows.append(",".join(_row(n, mobile="1234" if n == 4 else None)))
    source = tmp_path / "客户清单.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = _libreoffice(source, tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert "xl/workbook.xml" in archive.namelist()
    batch = run(org["data_admin"], path)
    assert (batch.file_kind, batch.created_count, batch.error_count) == ("xlsx", 4, 1)
    assert [(r, c) for r, c, _m in issues(batch)] == [(5, "手机号")]
    customer = Customer.objects.get(name="文件测试001有限公司")
    assert customer.mobile == "13700000001"  # a number cell read back as the digits typed
    assert (customer.province, customer.city, customer.district) == ("北京市", "北京市", "海淀区")
    assert customer.address == "中关村大街1号"


def test_formula_cells_import_their_computed_values(org, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(TEMPLATE_HEADERS)
    for n in range(1, 4):
        row = _row(n)
        row[0] = f'="公式测试"&TEXT({n},"000")&"有限公司"'
        row[5] = f"=13700000000+{n}"
        sheet.append(row)
    written = tmp_path / "公式.xlsx"
    book.save(written)  # openpyxl stores formulas without results: LibreOffice computes them
    path = _libreoffice(written, tmp_path)
    batch = run(org["data_admin"], path)
    assert (batch.created_count, batch.error_count) == (3, 0), issues(batch)
    customer = Customer.objects.get(name="公式测试002有限公司")
    assert customer.mobile == "13700000002"


def test_merged_cells_and_blank_rows(org, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户清单（2024）"])  # a title row above the table
    sheet.merge_cells("A1:K1")
    sheet.append([])
    sheet.append(TEMPLATE_HEADERS)
    sheet.append(_row(1, source="客户介绍"))
    sheet.append(_row(2, source=""))
    sheet.append([])  # a blank row in the middle
    sheet.append(_row(3, source=""))
    sheet.append(_row(4, mobile="1380013800", source="展会"))
    sheet.append([])
    sheet.append([])
    sheet.merge_cells("H4:H7")  # one 客户来源 written over rows 4-7 (a blank row inside)
    path = tmp_path / "合并.xlsx"
    book.save(path)
    batch = run(org["data_admin"], path)
    # The title row is taken as the header unless the table's own header row is found:
    # a sheet whose first row is a merged title gets mapped by its real header row.
    assert batch.headers[:2] == ["客户名称", "客户类型"]
    assert (batch.rows_done, batch.created_count, batch.error_count) == (4, 3, 1)
    assert [(r, c) for r, c, _m in issues(batch)] == [(8, "手机号")]
    sources = dict(Customer.objects.values_list("name", "source"))
    assert sources["文件测试002有限公司"] == "referral"  # filled down from the merged cell
    assert sources["文件测试003有限公司"] == "referral"


def test_gbk_csv_with_bad_rows(org, tmp_path):
    rows = [TEMPLATE_HEADERS, _row(1), _row(2, mobile="abc"), _row(3)]
    rows[3][2] = "不存在的行业"
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    batch = run(org["data_admin"], path)
    assert (batch.encoding, batch.created_count, batch.error_count) == ("gb18030", 1, 2)
    assert [(r, c) for r, c, _m in issues(batch)] == [(3, "手机号"), (4, "所属行业")]
    assert "不存在的行业" in issues(batch)[1][2]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_a_table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_table"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "not_a_table"),  # .xls
        (bytes(range(256)) * 4, "not_a_table"),
        (b"", "empty"),
    ],
)
def test_files_that_are_not_tables_are_refused_by_content(org, tmp_path, content, code):
    path = tmp_path / "客户.csv"  # the name says CSV; the bytes decide
    path.write_bytes(content)
    with pytest.raises(UploadRejected) as info:
        import_services.import_upload(
            actor=org["data_admin"], object_type="customer", source=path, file_name=path.name
        )
    assert info.value.code == code


def test_bounds(org, tmp_path, settings):
    path = write_csv(tmp_path / "a.csv", [TEMPLATE_HEADERS] + [_row(n) for n in range(1, 11)])
    settings.GUANXI_IMPORT_MAX_BYTES = 100
    with pytest.raises(UploadRejected, match="MB"):
        import_services.import_upload(
            actor=org["data_admin"], object_type="customer", source=path, file_name="a.csv"
        )
    settings.GUANXI_IMPORT_MAX_BYTES = 10**8
    settings.GUANXI_IMPORT_MAX_COLUMNS = 5
    with pytest.raises(UploadRejected) as info:
        import_services.import_upload(
            actor=org["data_admin"], object_type="customer", source=path, file_name="a.csv"
        )
    assert info.value.code == "too_many_columns"
    settings.GUANXI_IMPORT_MAX_COLUMNS = 200
    settings.GUANXI_IMPORT_MAX_ROWS = 5
    batch = import_services.import_upload(
        actor=org["data_admin"], object_type="customer", source=path, file_name="a.csv"
    )
    with pytest.raises(UploadRejected) as info:
        from guanxi.dataio import engine

        engine.validate_batch(batch.pk)
    assert info.value.code == "too_many_rows"
    batch.refresh_from_db()
    assert batch.status == "uploaded" and "5" in batch.failure
    assert not Customer.objects.exists()


def test_zip_bomb_xlsx_is_refused_by_unpacked_size(org, tmp_path, settings):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (30 * 1024 * 1024))
    assert path.stat().st_size < 100 * 1024
    with pytest.raises(UploadRejected) as info:
        import_services.import_upload(
            actor=org["data_admin"], object_type="customer", source=path, file_name="bomb.xlsx"
        )
    assert info.value.code == "unpacked_too_big"
