"""Every export format of the customer list, read back: XLSX (openpyxl), CSV, JSON, XML
(ElementTree) and PDF (embedded font, pages, the characters drawn); formula injection,
control characters, masking and scope in each."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.dataio import tables
from tests.dataio.export_support import (
    csv_rows,
    download,
    grant,
    pdf_pages,
    pdf_text_chars,
    xlsx_rows,
    xml_root,
)

pytestmark = pytest.mark.django_db
EXPORT = reverse("dataio:export_customers")
FORMULAS = ('=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx")


def test_xml_is_one_element_per_customer_with_the_fields_as_children(
    org, make_customer, client_for
):
    make_customer(org["admin"], name="甲方科技有限公司", tags=["重点"])
    odd = make_customer(org["admin"], name="乙方贸易有限公司")
    # Control characters XML 1.0 cannot hold (as legacy or imported data may have them).
    Customer.objects.filter(pk=odd.pk).update(notes="第一行\x01\x0b<&>第二行")
    data = download(client_for(org["admin"]).post(EXPORT, {"format": "xml"}))
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = xml_root(data)  # parses: the forbidden characters are gone
    assert root.tag == "customers"
    records = {c.findtext("name"): c for c in root.findall("customer")}
    assert set(records) == {"甲方科技有限公司", "乙方贸易有限公司"}
    first = records["甲方科技有限公司"]
    assert [t.text for t in first.find("tags")] == ["重点"]
    assert first.findtext("province") == "广东省" and first.findtext("status") == "潜在客户"
    assert records["乙方贸易有限公司"].findtext("notes") == "第一行\ufffd\ufffd<&>第二行"
    assert first.find("custom_fields") is not None
    entry = AuditEntry.objects.filter(action="customer.export").latest("pk")
    assert entry.params["format"] == "xml" and entry.params["rows"] == 2


def test_pdf_embeds_a_chinese_font_and_draws_only_the_exporters_rows(
    org, make_customer, client_for
):
    make_customer(org["rep_a"], name="鑫淼电子有限公司", mobile="13912345678")
    make_customer(org["rep_b"], name="犇骉物流有限公司")
    grant(org["rep_a"], "export_customer")
    response = client_for(org["rep_a"]).post(EXPORT, {"format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    data = download(response)
    assert data.startswith(b"%PDF-") and b"WenQuanYiMicroHei" in data
    assert b"/FontFile2" in data  # the TrueType font is embedded (subset), not referenced
    drawn = pdf_text_chars(data)
    assert set("鑫淼电子有限公司") <= drawn and set("客户列表导出时间共条第页") <= drawn
    assert not set("犇骉") & drawn  # another rep's customer is outside the scope
    assert pdf_pages(data) == 1


def test_pdf_wraps_long_cells_repeats_the_header_and_numbers_pages():
    rows = [[f"第{i}行", "很长的备注" * 100, i] for i in range(150)]
    file, count = tables.write_pdf(["编号", "备注", "数量"], rows, title="测试表格")
    data = file.read()
    assert count == 150 and pdf_pages(data) > 3
    # Each page draws its header row and "第 p 页 / 共 n 页"; the long note is cut with "…".
    assert data.count(b"/Subtype /Form") >= pdf_pages(data)
    assert {"…", "编", "号", "共", "页"} <= pdf_text_chars(data)
    empty, none = tables.write_pdf(["编号"], [], title="空表")
    assert none == 0 and set("没有符合条件的记录") <= pdf_text_chars(empty.read())


def test_pdf_has_its_own_row_cap(org, make_customer, client_for, settings):
    settings.GUANXI_EXPORT_PDF_MAX_ROWS = 1
    make_customer(org["admin"])
    make_customer(org["admin"])
    client = client_for(org["admin"])
    response = client.post(EXPORT, {"format": "pdf"}, follow=True)
    assert "PDF 最多导出 1 条" in response.content.decode()
    assert download(client.post(EXPORT, {"format": "csv"}))  # other formats are not bound


def test_spreadsheet_cells_never_run_as_formulas(org, make_customer, client_for):
    for text in FORMULAS:
        make_customer(org["admin"], notes=f"备注{len(text)}")
    for customer, text in zip(Customer.objects.order_by("pk"), FORMULAS, strict=True):
        Customer.objects.filter(pk=customer.pk).update(notes=text, address=text)
    inner = make_customer(org["admin"], notes="说明：\n=SUM(A1) 在第二行，不在开头")
    client = client_for(org["admin"])
    rows = csv_rows(download(client.post(EXPORT, {"format": "csv"})))
    assert sorted(r["备注"] for r in rows if r["客户名称"] != inner.name) == sorted(
        "'" + t for t in FORMULAS
    )
    assert next(r["备注"] for r in rows if r["客户名称"] == inner.name) == inner.notes
    data = download(client.post(EXPORT, {"format": "xlsx"}))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet  # no formula anywhere
    # 备注: text exactly as stored, in text cells (OOXML writes CR as "_x000D_", which Excel
    # reads back as CR; openpyxl leaves it escaped).
    values = [r[20].replace("_x000D_", "\r") for r in xlsx_rows(data)[1:]]
    assert sorted(values) == sorted([*FORMULAS, inner.notes])
    # JSON and XML are data, not sheets: values travel unchanged.
    records = json.loads(download(client.post(EXPORT, {"format": "json"})))
    assert sorted(r["notes"] for r in records) == sorted([*FORMULAS, inner.notes])


def test_xlsx_keeps_numbers_as_numbers_with_a_bold_frozen_header(org, make_customer, client_for):
    from guanxi.core.custom_field_services import custom_field_create

    custom_field_create(
        actor=org["admin"],
        data={
            "object_type": "customer",
            "label": "授信额度",
            "key": "credit",
            "field_type": "money",
        },
    )
    make_customer(org["admin"], name="数字公司", custom_fields={"credit": "-1234.5"})
    data = download(client_for(org["admin"]).post(EXPORT, {"format": "xlsx"}))
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "客户" and sheet.freeze_panes == "A2" and sheet["A1"].font.b
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["授信额度"] == -1234.5 and row["客户名称"] == "数字公司"
    assert sheet.column_dimensions["B"].width > 20  # the name column is wide
    csv_row = csv_rows(download(client_for(org["admin"]).post(EXPORT, {"format": "csv"})))[0]
    assert Decimal(csv_row["授信额度"]) == Decimal("-1234.50")  # a number, not "'-1234.50"


def test_every_format_masks_personal_values_for_readers_without_the_right(
    org, make_customer, client_for
):
    customer = make_customer(org["rep_a"], mobile="13912345678", email="zhangsan@example.com")
    client = client_for(org["analyst"])  # reads and exports everything, sees no personal data
    masked = "139****5678"
    assert csv_rows(download(client.post(EXPORT, {"format": "csv"})))[0]["手机号"] == masked
    assert xlsx_rows(download(client.post(EXPORT, {"format": "xlsx"})))[1][4] == masked
    record = json.loads(download(client.post(EXPORT, {"format": "json"})))[0]
    assert record["mobile"] == masked and record["email"] == "z***n@example.com"
    element = xml_root(download(client.post(EXPORT, {"format": "xml"}))).find("customer")
    assert element.findtext("mobile") == masked
    drawn = pdf_text_chars(download(client.post(EXPORT, {"format": "pdf"})))
    assert "*" in drawn
    admin = json.loads(download(client_for(org["admin"]).post(EXPORT, {"format": "json"})))
    assert admin[0]["mobile"] == customer.mobile  # the sensitive-data right sees it in full


def test_the_list_page_offers_every_format(org, client_for):
    html = client_for(org["admin"]).get(reverse("customers:list")).content.decode()
    for fmt in ("xlsx", "csv", "json", "xml", "pdf"):
        assert f'name="format" value="{fmt}"' in html
    assert reverse("dataio:export_jobs") in html
    rep_page = client_for(org["rep_a"]).get(reverse("customers:list")).content.decode()
    assert 'data-testid="export-form"' not in rep_page  # no export right: no menu


def test_every_custom_field_type_reads_the_same_in_sheets_and_json(org, make_customer, client_for):
    from guanxi.core.custom_field_services import custom_field_create
    from guanxi.core.models import DictionaryType

    category = DictionaryType.objects.get(code="customer_category").pk
    kinds = {
        "t": ("text", {}),
        "lt": ("long_text", {}),
        "n": ("number", {}),
        "m": ("money", {}),
        "d": ("date", {}),
        "b": ("boolean", {}),
        "c": ("choice", {"dictionary_id": category}),
        "mc": ("multi_choice", {"dictionary_id": category}),
    }
    for key, (kind, extra) in kinds.items():
        data = {"object_type": "customer", "label": f"字段{key}", "key": key, "field_type": kind}
        custom_field_create(actor=org["admin"], data={**data, **extra})
    values = {
        "t": "华南",
        "lt": "第一行\n第二行",
        "n": "12.5",
        "m": "1234.5",
        "d": "2026-01-31",
        "b": "是",
        "c": "vip",
        "mc": ["vip", "normal"],
    }
    make_customer(org["admin"], name="全类型公司", custom_fields=values)
    make_customer(org["admin"], name="空值公司", custom_fields={"b": "否", "n": "3"})
    client = client_for(org["admin"])
    rows = xlsx_rows(download(client.post(EXPORT, {"format": "xlsx"})))
    by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    full = by_name["全类型公司"]
    assert [full[f"字段{k}"] for k in kinds] == [
        "华南",
        "第一行\n第二行",
        12.5,
        1234.5,
        "2026-01-31",
        "是",
        "VIP客户",
        "VIP客户、普通客户",
    ]
    empty = by_name["空值公司"]
    assert (empty["字段b"], empty["字段n"], empty["字段t"], empty["字段mc"]) == (
        "否",
        3,
        None,
        None,
    )
    records = json.loads(download(client.post(EXPORT, {"format": "json"})))
    stored = next(r for r in records if r["name"] == "全类型公司")["custom_fields"]
    assert stored["mc"] == ["vip", "normal"] and stored["b"] is True and stored["m"] == "1234.50"
