"""Report files: the workbook read back holds the ReportResult's numbers; the PDF embeds the
CJK font, carries the text, and (where poppler is installed) renders to a non-blank page."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from guanxi.reports.export_files import report_filename, report_pdf, report_xlsx
from guanxi.reports.results import Chart, ChartSeries, ReportResult, Table

USER = SimpleNamespace(name="王经理", username="wang")
AT = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)  # 09:30 in Asia/Shanghai


def sample() -> ReportResult:
    return ReportResult(
        key="distribution",
        title="客户分布",
        filters=[("统计维度", "客户状态"), ("省份", "广东省")],
        charts=[
            Chart(
                "bar",
                "客户分布：客户状态",
                ["潜在客户", "成交客户"],
                [ChartSeries("客户数", [12, 30])],
            ),
            Chart(
                "line",
                "新增与流失",
                ["2026-09", "2026-10", "2026-11"],
                [ChartSeries("新增", [3, 5, 8]), ChartSeries("流失", [1, 0, 2])],
            ),
            Chart("pie", "客户来源", ["网站", "展会"], [ChartSeries("客户数", [10, 5])]),
            Chart("map", "各省份客户数", ["广东省", "北京市"], [ChartSeries("客户数", [5, 20])]),
            Chart("heatmap", "跟进热力", ["周一", "周二"], [ChartSeries("张三", [1, 4])]),
        ],
        tables=[
            Table(
                "客户分布：客户状态",
                ["客户状态", "数量", "占比"],
                [["潜在客户", 12, "28.6%"], ['=HYPERLINK("http://x")', 30, "71.4%"]],
                totals=["合计", 42, "100.0%"],
            ),
            Table("按日", ["日期", "新增"], [[dt.date(2026, 11, 1), 3], [dt.date(2026, 11, 2), 0]]),
        ],
    )


def workbook(result: ReportResult) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(report_xlsx(result, user=USER, generated_at=AT)))


def values(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_workbook_has_header_tables_and_chart_numbers() -> None:
    result = sample()
    book = workbook(result)
    assert book.sheetnames[0] == "报表信息"
    info = dict(values(book["报表信息"])[1:])
    assert info["报表"] == "客户分布"
    assert info["统计维度"] == "客户状态"
    assert info["省份"] == "广东省"
    assert info["生成时间"] == "2026-11-24 09:30"
    assert info["生成人"] == "王经理（wang）"
    table = values(book["客户分布：客户状态"])
    assert table[0] == ["客户状态", "数量", "占比"]
    assert table[1:] == [[*r] for r in result.tables[0].rows] + [["合计", 42, "100.0%"]]
    assert values(book["按日"])[1:] == [["2026-11-01", 3], ["2026-11-02", 0]]
    # One sheet per chart: categories down, one column per series, numbers as numbers.
    line = next(book[n] for n in book.sheetnames if "新增与流失" in n)
    assert values(line) == [
        ["分类", "新增", "流失"],
        ["2026-09", 3, 1],
        ["2026-10", 5, 0],
        ["2026-11", 8, 2],
    ]
    assert len(book.sheetnames) == 1 + len(result.tables) + len(result.charts)


def test_workbook_text_is_never_a_formula() -> None:
    book = workbook(sample())
    cell = book["客户分布：客户状态"]["A3"]
    assert cell.value == '=HYPERLINK("http://x")'
    assert cell.data_type == "s"


def test_empty_report_still_makes_a_workbook() -> None:
    book = workbook(ReportResult(key="x", title="空报表", filters=[]))
    assert book.sheetnames == ["报表信息"]


def test_pdf_embeds_the_cjk_font_and_text() -> None:
    data = report_pdf(sample(), user=USER, generated_at=AT)
    assert data.startswith(b"%PDF")
    assert b"FontFile2" in data  # the TrueType font program is inside the file
    assert b"WenQuanYi" in data or b"Noto" in data
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
        ).stdout.decode()
        for expected in ("客户分布", "广东省", "合计", "王经理", "2026-11-24 09:30"):
            assert expected in text
        assert "第1页/共3页" in text.replace(" ", "")


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed")
def test_pdf_renders_with_ink_on_the_page(tmp_path: Path) -> None:
    from PIL import Image

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_pdf(sample(), user=USER, generated_at=AT))
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert pages
    image = Image.open(pages[0]).convert("L")
    dark = sum(image.histogram()[:200])
    assert dark > 500  # title, axes and bars drawn, not a blank page


@pytest.mark.parametrize("kind", ["bar", "line", "pie", "map", "heatmap"])
def test_pdf_of_empty_and_all_zero_charts(kind: str) -> None:
    assert report_pdf(ReportResult(key="x", title="空报表", filters=[])).startswith(b"%PDF")
    charts = [
        Chart(kind, "无数据", [], [ChartSeries("客户数", [])]),
        Chart(kind, "全为零", ["甲", "乙"], [ChartSeries("客户数", [0, 0])]),
    ]
    empty_table = Table("空表", ["客户状态", "数量"], [], totals=["合计", 0])
    data = report_pdf(ReportResult(key="x", title="空报表", filters=[], charts=charts,
                                   tables=[empty_table]))  # fmt: skip
    assert data.startswith(b"%PDF")


def test_filename_is_the_title_and_local_time() -> None:
    result = ReportResult(key="growth", title="客户增长/流失", filters=[])
    assert report_filename(result, "pdf", AT) == "客户增长流失-20261124-0930.pdf"
