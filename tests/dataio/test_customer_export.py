"""Customer exports (list page 导出 and ``guanxi export``): formats, custom fields, scope,
masking, formula safety, permission and audit — real files read back."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.core.custom_field_services import custom_field_create
from guanxi.core.models import DictionaryType

pytestmark = pytest.mark.django_db
EXPORT = reverse("dataio:export_customers")


@pytest.fixture
def level(org):
    category = DictionaryType.objects.get(code="customer_category")
    custom_field_create(
        actor=org["admin"],
        data={
            "object_type": "customer",
            "label": "合作等级",
            "key": "level",
            "field_type": "choice",
            "dictionary_id": category.pk,
            "filterable": True,
        },
    )
    custom_field_create(
        actor=org["admin"],
        data={
            "object_type": "customer",
            "label": "授信额度",
            "key": "credit",
            "field_type": "money",
        },
    )


def _download(response) -> bytes:
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content)


def test_xlsx_has_every_column_labels_and_custom_values(org, level, make_customer, client_for):
    make_customer(
        org["admin"],
        name="导出测试有限公司",
        tags=["重点"],
        custom_fields={"level": "vip", "credit": "1234.5"},
    )
    response = client_for(org["admin"]).post(EXPORT, {"format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    book = openpyxl.load_workbook(io.BytesIO(_download(response)))
    rows = list(book.active.iter_rows(values_only=True))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:2] == ("客户编号", "客户名称") and header[-2:] == ("合作等级", "授信额度")
    assert row["客户名称"] == "导出测试有限公司"
    assert row["合作等级"] == "VIP客户"
    assert row["授信额度"] == 1234.5  # a number cell, not text
    assert row["所属行业"] == "信息传输、软件和信息技术服务业"
    assert row["客户标签"] == "重点"
    assert response["X-Export-Rows"] == "1"


def test_csv_and_json_follow_the_list_filters_and_scope(org, level, make_customer, client_for):
    mine = make_customer(org["rep_a"], name="甲公司", custom_fields={"level": "vip"})
    make_customer(org["rep_a"], name="乙公司", custom_fields={"level": "normal"})
    make_customer(org["rep_b"], name="别人的公司", custom_fields={"level": "vip"})
    # A rep may not export at all by default; give the permission to see scope at work.
    from django.contrib.auth.models import Permission

    org["rep_a"].user_permissions.add(Permission.objects.get(codename="export_customer"))
    client = client_for(org["rep_a"])
    data = _download(client.post(EXPORT, {"format": "csv", "cf_level": "vip"}))
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["客户名称"] for r in rows] == ["甲公司"]
    assert rows[0]["手机号"] == mine.mobile  # the owner sees it in full, as on the list

    records = json.loads(_download(client.post(EXPORT, {"format": "json"})))
    assert {r["name"] for r in records} == {"甲公司", "乙公司"}
    first = next(r for r in records if r["name"] == "甲公司")
    assert first["custom_fields"] == {"level": "vip", "credit": None}
    entry = AuditEntry.objects.filter(action="customer.export").latest("pk")
    assert entry.params["rows"] == 2 and entry.params["format"] == "json"


def test_personal_values_are_masked_for_readers_without_the_right(org, make_customer, client_for):
    customer = make_customer(org["rep_a"], mobile="13912345678")
    data = _download(client_for(org["analyst"]).post(EXPORT, {"format": "csv"}))
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["手机号"] != customer.mobile and "*" in row["手机号"]


def test_formula_cells_are_neutralised_in_csv(org, make_customer, client_for):
    make_customer(org["admin"], notes='=HYPERLINK("http://x")')
    data = _download(client_for(org["admin"]).post(EXPORT, {"format": "csv"}))
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["备注"].startswith("'=")


def test_export_needs_permission_and_refusal_is_audited(org, client_for):
    response = client_for(org["rep_a"]).post(EXPORT, {"format": "xlsx"})
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="customer.export", result="denied").exists()


def test_bad_format_or_filter_goes_back_to_the_list_with_a_message(org, client_for):
    client = client_for(org["admin"])
    response = client.post(EXPORT, {"format": "exe"}, follow=True)
    assert "导出失败" in response.content.decode()
    response = client.post(EXPORT, {"format": "csv", "created_from": "yesterday"})
    assert response.status_code == 302 and "created_from=yesterday" in response["Location"]


def test_page_exports_are_capped_not_cut(org, make_customer, client_for, settings):
    settings.GUANXI_EXPORT_MAX_ROWS = 1
    make_customer(org["admin"])
    make_customer(org["admin"])
    response = client_for(org["admin"]).post(EXPORT, {"format": "csv"}, follow=True)
    assert "超过 1 条" in response.content.decode()
    assert not AuditEntry.objects.filter(action="customer.export", result="success").exists()


def test_command_line_export(org, level, make_customer, tmp_path):
    make_customer(org["admin"], name="命令行甲公司", custom_fields={"level": "vip"})
    make_customer(org["admin"], name="命令行乙公司", status="cooperating")
    out = tmp_path / "customers.json"
    call_command(
        "export", "customers", "--format", "json", "-o", str(out), "--filter", "cf_level=vip"
    )
    assert [r["name"] for r in json.loads(out.read_text())] == ["命令行甲公司"]
    xlsx = tmp_path / "c.xlsx"
    call_command(
        "export",
        "customers",
        "-o",
        str(xlsx),
        "--status",
        "cooperating",
        "--as",
        org["manager"].username,
    )
    rows = list(openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True))
    assert len(rows) == 1  # the manager's scope holds neither admin customer: header only
    entry = AuditEntry.objects.filter(action="customer.export").latest("pk")
    assert entry.actor_id == org["manager"].pk
