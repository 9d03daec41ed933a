"""The import readers on real files made here: XLSX written by LibreOffice (also to get
computed formula values) and by openpyxl, CSV in every encoding people send, and files that
must be refused (not tables, too big, zip bombs, sheets reaching too far)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font

from guanxi.dataio.readers import (
    TableInfo,
    UploadRejected,
    count_rows,
    inspect_table,
    iter_rows,
)
from guanxi.dataio.readers.errors import MSG_HEADER_ONLY
from guanxi.dataio.readers.sniff import SAMPLE_BYTES


def rows_of(path: Path, **kwargs: int) -> tuple[TableInfo, list[tuple[int, list[str]]]]:
    info = inspect_table(path)
    return info, list(iter_rows(info, path, **kwargs))


def refused(path: Path) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        info = inspect_table(path)
        list(iter_rows(info, path))
    return caught.value


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8", **fmt: str) -> Path:
    with open(path, "w", encoding=encoding, newline="") as out:
        csv.writer(out, **fmt).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def libreoffice(source: Path, tmp_path: Path) -> Path:
    """``source`` saved as XLSX by LibreOffice (which also computes and stores formulas)."""
    office = shutil.which("libreoffice")
    if office is None:
        if os.environ.get("CI") == "true":
            pytest.fail("libreoffice must be installed in CI (Debian: libreoffice-calc-nogui)")
        pytest.skip("libreoffice is not on PATH: cannot write an XLSX with LibreOffice")
    out = tmp_path / "lo-out"
    subprocess.run(
        [
            office,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
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
    converted = out / f"{source.stem}.xlsx"
    with zipfile.ZipFile(converted) as archive:
        assert b"LibreOffice" in archive.read("docProps/app.xml")
    return converted


# --- XLSX -----------------------------------------------------------------------------------
def test_xlsx_written_by_libreoffice(tmp_path):
    source = write_xlsx(
        tmp_path / "客户.xlsx",
        [
            ["客户名称", "手机号", "成立日期", "最近联系", "金额", "单价"],
            ["华盛贸易有限公司", 13800138000, dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 9, 30)],
            ["鑫源科技", 13912345678.0, dt.date(1999, 12, 31), None, 1234.5, 0.1],
        ],
    )
    path = libreoffice(source, tmp_path)
    info, rows = rows_of(path)
    assert (info.kind, info.encoding, info.sheet_name, info.header_row) == ("xlsx", "", "Sheet", 1)
    assert info.headers == ["客户名称", "手机号", "成立日期", "最近联系", "金额", "单价"]
    assert rows == [
        (2, ["华盛贸易有限公司", "13800138000", "2024-05-01", "2024-05-01 09:30:00", "", ""]),
        (3, ["鑫源科技", "13912345678", "1999-12-31", "", "1234.5", "0.1"]),
    ]
    assert count_rows(info, path) == 2


CODE = '="KH"&TEXT(ROW()-1,"000")'


def test_formula_cells_read_the_values_libreoffice_computed(tmp_path):
    source = write_xlsx(
        tmp_path / "公式.xlsx",
        [
            ["名称", "单价", "数量", "金额", "编号", "手机", "出错", "缺失"],
            [
                "甲",
                12.5,
                4,
                "=B2*C2",
                '="KH"&TEXT(ROW()-1,"000")',
                "=13800138000+1",
                "=1/0",
                "=NA()",
            ],
            ["乙", 3, 0.5, "=B3*C3", '="KH"&TEXT(ROW()-1,"000")', "=F2+1", "=B3/C3", "=B3>C3"],
        ],
    )
    path = libreoffice(source, tmp_path)
    _info, rows = rows_of(path)
    assert rows == [
        (2, ["甲", "12.5", "4", "50", "KH001", "13800138001", "", ""]),
        (3, ["乙", "3", "0.5", "1.5", "KH002", "13800138002", "6", "TRUE"]),
    ]


MOMENTS = [dt.datetime(2024, 2, 29, 23, 59, 59), dt.time(8, 5)]


def test_xlsx_cell_values_become_the_text_people_saw(tmp_path):
    path = write_xlsx(
        tmp_path / "值.xlsx",
        [
            ["整数", "小数", "大数", "布尔", "日期", "时间", "时刻", "文本"],
            [13800138000, 0.25, 10**20, False, dt.date(2024, 2, 29), *MOMENTS, "  前后空格  "],
            [-3, -0.5, 1e-7, True, None, None, None, 12],
        ],
    )
    _info, rows = rows_of(path)
    whole, small, huge = "13800138000", "0.25", "100000000000000000000"
    assert rows == [
        (
            2,
            [
                whole,
                small,
                huge,
                "FALSE",
                "2024-02-29",
                "2024-02-29 23:59:59",
                "08:05:00",
                "前后空格",
            ],
        ),
        (3, ["-3", "-0.5", "1e-07", "TRUE", "", "", "", "12"]),
    ]


def test_merged_cells_fill_their_range_and_blank_rows_are_skipped(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [
        ["2024 年客户清单"],  # a title merged across the table, above the header
        [],
        ["客户名称", "客户来源", "省", "市", "区"],
        ["甲公司", "展会", "广东省", "深圳市", "南山区"],
        ["乙公司", None, "广东省", "深圳市", "福田区"],
        [],  # blank inside the merged 客户来源: still a blank row
        ["丙公司", None, "北京市", None, None],
        ["丁公司", "网站", "上海市"],
        [],
        [None, None, None],
    ]:
        sheet.append(row)
    sheet.merge_cells("A1:E1")
    sheet.merge_cells("B4:B7")  # vertical: one source for three companies
    sheet.merge_cells("C7:E7")  # horizontal: 北京市 over 省/市/区
    path = tmp_path / "合并.xlsx"
    book.save(path)
    info, rows = rows_of(path)
    assert (info.header_row, info.headers) == (3, ["客户名称", "客户来源", "省", "市", "区"])
    assert rows == [
        (4, ["甲公司", "展会", "广东省", "深圳市", "南山区"]),
        (5, ["乙公司", "展会", "广东省", "深圳市", "福田区"]),
        (7, ["丙公司", "展会", "北京市", "北京市", "北京市"]),
        (8, ["丁公司", "网站", "上海市", "", ""]),
    ]
    assert count_rows(info, path) == 4
    # Resuming after row 4 skips the merge's anchor row, yet its value still fills row 5.
    assert [n for n, _c in iter_rows(info, path, start_after=4)] == [5, 7, 8]
    assert next(iter_rows(info, path, start_after=4))[1][1] == "展会"


def test_first_visible_sheet_with_data_and_offset_table(tmp_path):
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "隐藏"
    hidden.append(["秘密", "数据"])
    hidden.append(["x", "y"])
    hidden.sheet_state = "hidden"
    book.create_sheet("空白")
    table = book.create_sheet("客户")
    table["C3"], table["D3"] = "客户名称", "电话"
    table["C4"], table["D4"] = "甲公司", 13800138000
    table["D6"] = "只有电话"
    path = tmp_path / "多表.xlsx"
    book.save(path)
    info, rows = rows_of(path)
    assert (info.sheet_name, info.header_row, info.headers) == ("客户", 3, ["客户名称", "电话"])
    assert rows == [(4, ["甲公司", "13800138000"]), (6, ["", "只有电话"])]


def test_row_shapes_padding_extra_cells_and_blank_headers(tmp_path):
    path = write_xlsx(
        tmp_path / "形状.xlsx",
        [
            ["名称", None, "电话", None, None],
            ["甲"],
            ["乙", "b", "c", "多出来的", None],
        ],
    )
    info, rows = rows_of(path)
    assert info.headers == ["名称", "列2", "电话"]  # trailing blank header cells dropped
    assert rows == [(2, ["甲", "", ""]), (3, ["乙", "b", "c", "多出来的"])]


# --- CSV ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "detected", "name"),
    [
        ("utf-8", "utf-8", "张三"),
        ("utf-8-sig", "utf-8-sig", "李四"),
        ("gbk", "gb18030", "王五"),
        ("gb18030", "gb18030", "㐀赵六"),  # 㐀 exists in GB18030, not in GBK
        ("utf-16", "utf-16", "曾七"),  # Excel's "Unicode text"
    ],
)
def test_csv_encodings(tmp_path, encoding, detected, name):
    rows = [["客户名称", "联系人", "手机号"], ["深圳华盛贸易有限公司", name, "13800138000"]]
    path = write_csv(tmp_path / "客户.csv", rows, encoding=encoding)
    info, read = rows_of(path)
    assert (info.kind, info.encoding, info.sheet_name) == ("csv", detected, "")
    assert (info.header_row, info.headers) == (1, rows[0])
    assert read == [(2, rows[1])]


def test_csv_delimiters_line_ends_and_quoted_fields(tmp_path):
    rows = [
        ["客户名称", "地址", "备注"],
        ["华盛", "广东省,深圳市", "第一行\n第二行"],
        ["鑫源", '北京"中关村"', "a;b"],
        ["恒通", "", ""],
    ]
    for delimiter in (",", "\t", ";"):
        path = write_csv(tmp_path / "d.csv", rows, delimiter=delimiter, lineterminator="\r\n")
        info, read = rows_of(path)
        assert info.delimiter == delimiter
        # The quoted line break stays in its cell; each record is one spreadsheet row.
        assert read == [(2, rows[1]), (3, rows[2]), (4, ["恒通", "", ""])]


def test_csv_blank_lines_numbering_and_start_after(tmp_path):
    path = tmp_path / "空行.csv"
    path.write_text("\n名称,电话\n甲,1\n\n乙,2\n , \n丙,3\n\n", encoding="utf-8")
    info, rows = rows_of(path)
    assert info.header_row == 2
    assert rows == [(3, ["甲", "1"]), (5, ["乙", "2"]), (7, ["丙", "3"])]
    assert count_rows(info, path) == 3
    assert [n for n, _c in iter_rows(info, path, start_after=5)] == [7]
    assert [n for n, _c in iter_rows(info, path, start_after=4)] == [5, 7]


def test_csv_utf8_character_cut_by_the_sample_edge(tmp_path):
    header = "名称,备注\n"
    pad = "a" * (SAMPLE_BYTES - len(header.encode()) - 4)
    text = f"{header}{pad},中文\n"  # 中 starts 1 byte before the edge, 文 straddles it
    path = tmp_path / "edge.csv"
    path.write_bytes(text.encode("utf-8"))
    assert len(text.encode("utf-8")) > SAMPLE_BYTES
    info, rows = rows_of(path)
    assert info.encoding == "utf-8"
    assert rows == [(2, [pad, "中文"])]


def test_csv_gbk_after_an_ascii_sample_is_still_found(tmp_path):
    body = [["name", "note"]] + [[f"row{n}", "x" * 50] for n in range(2000)] + [["张三", "广州"]]
    path = write_csv(tmp_path / "late.csv", body, encoding="gbk")
    assert path.stat().st_size > SAMPLE_BYTES
    info, rows = rows_of(path)
    assert info.encoding == "gb18030"
    assert rows[-1][1] == ["张三", "广州"]


def test_csv_bad_encoding_and_broken_quotes(tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes("名称,备注\n张三,好\n".encode() * 4000 + b"\xff\xfe\x80\n")
    assert refused(broken).code == "bad_encoding"  # UTF-8 text, then a byte nothing decodes
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"a,b\n\x80\x80,\xff\n")
    assert refused(garbage).code == "bad_encoding"
    quotes = tmp_path / "quotes.csv"
    good = "".join(f"甲{n},{n}\n" for n in range(10))
    quotes.write_text(f'名称,备注\n{good}乙,"没有结束' + "长" * 200_000 + "\n丙,3\n")
    info = inspect_table(quotes)
    rows = iter_rows(info, quotes)  # streamed: the good rows come before the broken one
    assert [next(rows)[0] for _n in range(10)] == list(range(2, 12))
    with pytest.raises(UploadRejected) as caught:
        next(rows)
    assert caught.value.code == "bad_csv"
    assert "12" in str(caught.value.message)


# --- refused files ----------------------------------------------------------------------------
def ole(*streams: str) -> bytes:
    names = b"".join(s.encode("utf-16-le") + b"\x00\x00" for s in streams)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + names + b"\x00" * 1024


def plain_zip(members: dict[str, bytes]) -> bytes:
    """A zip with fixed member times, so the bytes (and test ids) never change between runs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            member = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo alone would store it raw
            archive.writestr(member, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "not_a_table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "not_a_table"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "not_a_table"),
        (ole("Workbook", "SummaryInformation"), "not_a_table"),  # an old .xls
        (ole("EncryptionInfo", "EncryptedPackage"), "encrypted_xlsx"),  # a password .xlsx
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "not_a_table"),
        (random.Random(7).randbytes(8192), "not_a_table"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "not_a_table"),  # a Windows program
        (b"a,b\n\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11", "not_a_table"),
        (plain_zip({"readme.txt": b"hello"}), "not_a_table"),
        (plain_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), "not_a_table"),
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b" \r\n,,\r\n\t\n", "empty"),
    ],
    ids=[
        "pdf",
        "png",
        "jpeg",
        "xls",
        "encrypted-xlsx",
        "elf",
        "random",
        "exe",
        "binary-csv",
        "zip",
        "ods-like-zip",
        "empty",
        "bom-only",
        "blank-lines",
    ],
)
def test_files_are_judged_by_content_not_name(tmp_path, content, code):
    path = tmp_path / "客户.csv"  # the name claims a table; the bytes decide
    path.write_bytes(content)
    error = refused(path)
    assert error.code == code
    assert str(error.message)  # a message for the user, whatever the code


def test_header_only_files_are_refused(tmp_path):
    for path in (
        write_csv(tmp_path / "h.csv", [["客户名称", "手机号"], [], ["", ""]]),
        write_xlsx(tmp_path / "h.xlsx", [["客户名称", "手机号"], [None, None]]),
    ):
        error = refused(path)
        assert (error.code, error.message) == ("empty", MSG_HEADER_ONLY)


def test_bounds_size_columns_rows(tmp_path, settings):
    rows = [["名称", "电话", "地址"]] + [[f"公司{n}", f"1380013800{n}", "深圳"] for n in range(5)]
    path = write_csv(tmp_path / "b.csv", rows)
    settings.GUANXI_IMPORT_MAX_BYTES = path.stat().st_size - 1
    assert refused(path).code == "too_big"
    settings.GUANXI_IMPORT_MAX_BYTES = path.stat().st_size
    settings.GUANXI_IMPORT_MAX_COLUMNS = 2
    assert refused(path).code == "too_many_columns"
    settings.GUANXI_IMPORT_MAX_BYTES = 10**6
    assert refused(write_xlsx(tmp_path / "b.xlsx", rows)).code == "too_many_columns"
    settings.GUANXI_IMPORT_MAX_COLUMNS = 3
    settings.GUANXI_IMPORT_MAX_ROWS = 3
    info = inspect_table(path)  # rows are counted while reading, not at upload
    read = iter_rows(info, path, start_after=4)  # skipped rows count too
    with pytest.raises(UploadRejected) as caught:
        list(read)
    assert caught.value.code == "too_many_rows"
    assert "3" in str(caught.value.message)
    with pytest.raises(UploadRejected):
        count_rows(info, path)
    settings.GUANXI_IMPORT_MAX_ROWS = 5
    assert count_rows(info, path) == 5


def test_a_data_row_past_the_column_bound_is_refused_while_reading(tmp_path, settings):
    settings.GUANXI_IMPORT_MAX_COLUMNS = 4
    path = write_csv(tmp_path / "w.csv", [["a", "b"], ["1", "2"], ["1", "2", "3", "4", "5"]])
    info = inspect_table(path)
    with pytest.raises(UploadRejected) as caught:
        list(iter_rows(info, path))
    assert caught.value.code == "too_many_columns"


def test_a_sheet_reaching_past_the_bounds_is_refused_before_it_is_parsed(tmp_path, settings):
    # calamine holds a sheet as a dense grid: one far cell would cost gigabytes.
    book = openpyxl.Workbook()
    book.active.append(["名称", "电话"])
    book.active.append(["甲", "1"])
    book.active.cell(row=2, column=300).font = Font(bold=True)  # styled, empty: harmless
    book.active.cell(row=5000, column=2).font = Font(bold=True)
    ok = tmp_path / "ok.xlsx"
    book.save(ok)
    settings.GUANXI_IMPORT_MAX_ROWS = 100
    assert [n for n, _c in rows_of(ok)[1]] == [2]
    book.active.cell(row=3, column=300, value="远处的值")
    wide = tmp_path / "wide.xlsx"
    book.save(wide)
    assert refused(wide).code == "too_many_columns"
    book.active.cell(row=3, column=300).value = None
    book.active.cell(row=5000, column=1, value="很远的行")
    long = tmp_path / "long.xlsx"
    book.save(long)
    error = refused(long)
    assert error.code == "too_many_rows" and "5000" in str(error.message)


def xlsx_members(sheet: bytes) -> dict[str, bytes]:
    return {
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": b"<workbook/>",
        "xl/worksheets/sheet1.xml": sheet,
    }


def test_zip_bomb_by_compression_ratio(tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(plain_zip(xlsx_members(b"\x00" * (40 * 1024 * 1024))))
    assert path.stat().st_size < 200 * 1024
    assert refused(path).code == "unpacked_too_big"


def test_unpacked_size_is_counted_not_taken_from_the_zip_directory(tmp_path, settings):
    rng = random.Random(3)
    sheet = b"".join(b"<row><c><v>%d</v></c></row>" % rng.randrange(10**9) for _ in range(60_000))
    honest = tmp_path / "honest.xlsx"
    honest.write_bytes(plain_zip(xlsx_members(sheet)))
    settings.GUANXI_IMPORT_MAX_UNPACKED_BYTES = len(sheet) // 2
    assert refused(honest).code == "unpacked_too_big"
    # The same archive claiming its sheet unpacks to 1 KB, in both of its headers.
    data = bytearray(honest.read_bytes())
    with zipfile.ZipFile(honest) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    struct.pack_into("<I", data, member.header_offset + 22, 1024)
    central = data.find(b"xl/worksheets/sheet1.xml", data.find(b"PK\x01\x02")) - 46
    assert data[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, central + 24, 1024)
    liar = tmp_path / "liar.xlsx"
    liar.write_bytes(bytes(data))
    with zipfile.ZipFile(liar) as archive:
        assert sum(m.file_size for m in archive.infolist()) < len(sheet) // 2
    assert refused(liar).code == "unpacked_too_big"
