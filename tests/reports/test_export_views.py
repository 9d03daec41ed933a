"""Report downloads over HTTP: rights, scope (the file's numbers are the caller's own), the
audit entry, and bad input answered 422 (unknown report 404), never a server error."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.test import Client

from guanxi.audit.models import AuditEntry
from guanxi.customers.models import Customer
from tests.conftest import make_user
from tests.reports.support import customers_in, seed

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def data(org: dict[str, Any], make_customer: Any) -> list[Customer]:
    return seed(org, make_customer)


def totals_row(content: bytes) -> list[Any]:
    """The distribution table's 合计 row in a downloaded workbook."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[book.sheetnames[1]]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[-1][0] == "合计"
    return rows


def status_counts(rows: list[list[Any]]) -> dict[str, int]:
    return {r[0]: r[1] for r in rows[1:-1]}


def test_excel_holds_the_callers_own_numbers(org, data, client_for) -> None:
    for who in ("analyst", "manager"):
        response = client_for(org[who]).get(
            "/reports/export/distribution/", {"format": "xlsx", "by": "status"}
        )
        assert response.status_code == 200, who
        assert response["Content-Type"] == XLSX
        assert "attachment;" in response["Content-Disposition"]
        disposition = response["Content-Disposition"]
        assert 'filename="report-distribution-20' in disposition and ".xlsx" in disposition
        assert "filename*=UTF-8''%E5%AE%A2%E6%88%B7%E5%88%86%E5%B8%83-20" in disposition  # 客户分布
        rows = totals_row(response.content)
        expected = customers_in(org, who)
        assert rows[-1][1] == expected.count()
        assert sum(status_counts(rows).values()) == expected.count()
    assert customers_in(org, "manager").count() < customers_in(org, "analyst").count()


def test_filters_pass_through_to_the_file(org, data, client_for) -> None:
    response = client_for(org["analyst"]).get(
        "/reports/export/distribution/", {"format": "xlsx", "by": "status", "province": "浙江省"}
    )
    assert response.status_code == 200
    rows = totals_row(response.content)
    assert (
        rows[-1][1] == Customer.objects.filter(deleted_at__isnull=True, province="浙江省").count()
    )


def test_export_is_audited_with_report_params_and_rows(org, data, client_for) -> None:
    client_for(org["analyst"]).get(
        "/reports/export/distribution/", {"format": "pdf", "by": "category"}
    )
    entry = AuditEntry.objects.filter(action="report.export").latest("id")
    assert entry.result == "success"
    assert entry.actor_id == org["analyst"].pk
    assert entry.object_type == "report" and entry.object_id == "distribution"
    assert entry.params["format"] == "pdf"
    assert entry.params["filters"] == {"by": "category"}
    assert entry.params["rows"] > 0


@pytest.mark.parametrize(
    "key", ["dashboard", "distribution", "status", "region", "growth", "activity"]
)
def test_every_report_exports_to_pdf_and_excel(org, data, client_for, key) -> None:
    client = client_for(org["admin"])
    pdf = client.get(f"/reports/export/{key}/", {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"/reports/export/{key}/", {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "报表信息"


def test_rights(org, data, client_for) -> None:
    url = "/reports/export/distribution/"
    # A sales rep sees reports but may not take customer data out as files.
    rep = client_for(org["rep_a"]).get(url, {"format": "xlsx"})
    assert rep.status_code == 403
    denied = AuditEntry.objects.filter(action="report.export").latest("id")
    assert denied.result == "denied" and denied.actor_id == org["rep_a"].pk
    nobody = make_user(None, org["sales"])
    assert client_for(nobody).get(url, {"format": "xlsx"}).status_code == 403
    anonymous = Client().get(url, {"format": "xlsx"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@pytest.mark.parametrize(
    ("key", "query", "message"),
    [
        ("distribution", {"format": "doc"}, "报表导出格式只能是 xlsx 或 pdf"),
        ("distribution", {"format": "xlsx", "by": "nonsense"}, "不支持的取值"),
        ("growth", {"format": "pdf", "from": "2026-13-40"}, "请填写日期"),
        ("status", {"format": "pdf", "status": "no-such-status"}, ""),
    ],
)
def test_bad_input_answers_422(org, client_for, key, query, message) -> None:
    response = client_for(org["analyst"]).get(f"/reports/export/{key}/", query)
    assert response.status_code == 422
    html = response.content.decode()
    assert "报表导出失败" in html and message in html
    failed = AuditEntry.objects.filter(action="report.export").latest("id")
    assert failed.result == "failed"


def test_unknown_report_is_404(org, client_for) -> None:
    response = client_for(org["analyst"]).get("/reports/export/no-such-report/", {"format": "pdf"})
    assert response.status_code == 404
