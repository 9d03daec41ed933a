"""The audit page (系统设置 → 审计日志) over real HTTP: permission, filters, keyset pages,
detail, CSV/XLSX export (and its own audit entry), the integrity button, query budget."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.audit.actions import register_actions
from guanxi.audit.models import AuditEntry, AuditResult
from guanxi.audit.services import RequestMeta, audit_record
from guanxi.workflow.models import Notification
from tests.audit.test_verify import tampering
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
LIST = reverse("audit:list")
EXPORT = reverse("audit:export")
VERIFY = reverse("audit:verify")
QUERY_BUDGET = 15


def _ids(response: Any) -> list[int]:
    return [int(i) for i in re.findall(r'data-entry-id="(\d+)"', response.content.decode())]


@pytest.fixture
def log(org) -> dict[str, AuditEntry]:
    """A small log: several people, actions, results, addresses and objects."""
    admin, rep = org["admin"], org["rep_a"]
    office, home = RequestMeta("10.0.0.1", "Firefox/120"), RequestMeta("192.168.1.9", "curl/8")
    entries = {
        "login": audit_record(actor=rep, action="auth.login", obj=rep, meta=office),
        "login_failed": audit_record(
            actor=None,
            action="auth.login",
            result=AuditResult.DENIED,
            object_type="user",
            error_code="ERR-015",
            params={"username": "ghost"},
            meta=home,
        ),
        "update": audit_record(
            actor=admin,
            action="customer.update",
            object_type="customer",
            object_id=42,
            object_repr="深圳华盛电子科技有限公司",
            changes={
                "name": ["华盛电子", "深圳华盛电子科技有限公司"],
                "mobile": ["138****0001", None],
            },
            params={"version": 3},
            meta=office,
        ),
        "refused": audit_record(
            actor=rep,
            action="customer.delete",
            result=AuditResult.DENIED,
            object_type="customer",
            object_id=42,
            object_repr="深圳华盛电子科技有限公司",
            error_code="ERR-002",
            meta=home,
        ),
        "formula": audit_record(
            actor=admin,
            action="customer.create",
            object_type="customer",
            object_id=43,
            object_repr='=HYPERLINK("http://evil","点我")',
            meta=office,
        ),
        "unknown": audit_record(actor=admin, action="plugin.sync", meta=office),
    }
    return entries


# --- permission --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep_a", "manager", "data_admin", "analyst", "service_rep"])
def test_page_denied_without_permission(org, log, client_for, role):
    client = client_for(org[role])
    before = AuditEntry.objects.count()
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("audit:detail", args=[log["update"].pk])).status_code == 403
    assert client.post(VERIFY).status_code == 403
    response = client.post(EXPORT, {"format": "csv"})
    assert response.status_code == 403
    assert not response.get("Content-Disposition")
    # Nothing but the refusals themselves was written.
    refusals = AuditEntry.objects.filter(pk__gt=log["unknown"].pk)
    assert AuditEntry.objects.count() == before + 2
    assert sorted(refusals.values_list("action", "result", "actor_id")) == [
        ("audit.export", "denied", org[role].pk),
        ("audit.verify", "denied", org[role].pk),
    ]


def test_anonymous_goes_to_login(client, log):
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_menu_entry_only_for_holders(org, client_for):
    assert reverse("audit:list") in client_for(org["admin"]).get("/customers/").content.decode()
    assert reverse("audit:list") not in client_for(org["rep_a"]).get("/customers/").content.decode()


def test_viewer_without_export_permission_sees_no_export_and_is_refused(org, log, client_for):
    role = Role.objects.create(code="auditor", name="审计员")
    role.permissions.add(Permission.objects.get(codename="view_auditentry"))
    auditor = make_user(None, org["head"])
    auditor.roles.add(role)
    client = client_for(auditor)
    page = client.get(LIST)
    assert page.status_code == 200 and 'data-testid="export-form"' not in page.content.decode()
    assert client.post(EXPORT, {"format": "xlsx"}).status_code == 403
    refusal = AuditEntry.objects.latest("id")
    assert (refusal.action, refusal.result, refusal.error_code) == (
        "audit.export",
        "denied",
        "ERR-002",
    )


# --- list and filters --------------------------------------------------------------------


def test_list_newest_first_with_labels(org, log, client_for):
    response = client_for(org["admin"]).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    ids = _ids(response)
    assert ids == sorted(ids, reverse=True)
    assert {e.pk for e in log.values()} <= set(ids)
    assert "登录" in html and "编辑客户" in html  # labels for known codes
    assert "plugin.sync" in html  # unknown code shown raw
    assert "深圳华盛电子科技有限公司" in html
    assert 'name="action"' in html and "<select" in html


def test_registered_action_label_is_shown(org, log, client_for):
    register_actions({"plugin.sync": "插件同步"})
    try:
        html = client_for(org["admin"]).get(LIST).content.decode()
        assert "插件同步" in html
    finally:
        from guanxi.audit.actions import ACTION_LABELS

        ACTION_LABELS.pop("plugin.sync", None)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "auth.login"}, ["login_failed", "login"]),
        ({"action": "customer.*"}, ["formula", "refused", "update"]),
        ({"result": "denied"}, ["refused", "login_failed"]),
        ({"error_code": "ERR-002"}, ["refused"]),
        ({"ip": "192.168.1.9"}, ["refused", "login_failed"]),
        ({"object_type": "customer", "object_id": "42"}, ["refused", "update"]),
        ({"q": "华盛"}, ["refused", "update"]),
        ({"user": "ghost"}, ["login_failed"]),
        ({"action": "customer.update", "result": "success", "ip": "10.0.0.1"}, ["update"]),
    ],
)
def test_filters_return_the_right_rows(org, log, client_for, params, expected):
    response = client_for(org["admin"]).get(LIST, params)
    assert response.status_code == 200
    assert _ids(response) == [log[name].pk for name in expected]


def test_user_filter_uses_the_actor(org, log, client_for):
    response = client_for(org["admin"]).get(LIST, {"user": org["rep_a"].username})
    assert _ids(response) == [log["refused"].pk, log["login"].pk]


def test_time_range_filter(org, log, client_for):
    old = log["login"]
    with tampering() as cursor:  # back-date one entry (the hash no longer fits; fine here)
        cursor.execute(
            "UPDATE audit_auditentry SET occurred_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=3), old.pk],
        )
    today = timezone.localdate().isoformat()
    client = client_for(org["admin"])
    recent = _ids(client.get(LIST, {"occurred_from": today}))
    assert old.pk not in recent and log["update"].pk in recent
    earlier = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert _ids(client.get(LIST, {"occurred_to": earlier})) == [old.pk]
    stamp = (timezone.localtime() - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    assert old.pk in _ids(client.get(LIST, {"occurred_from": stamp, "occurred_to": earlier}))


def test_bad_filter_values_show_errors_not_500(org, log, client_for):
    client = client_for(org["admin"])
    for params in ({"ip": "not-an-ip"}, {"occurred_from": "2026-13-45"}, {"result": "x"}):
        response = client.get(LIST, params)
        assert response.status_code == 200
        assert "筛选条件有误" in response.content.decode()
        assert _ids(response) == []
    response = client.get(LIST, {"cursor": "garbage"})
    assert response.status_code == 200 and _ids(response)


def test_keyset_pages_cover_everything_once(org, client_for):
    for i in range(57):
        audit_record(actor=org["admin"], action="customer.update", object_id=i)
    client = client_for(org["admin"])
    first = client.get(LIST, {"action": "customer.update"})
    ids = _ids(first)
    assert len(ids) == 50
    next_url = re.search(r'href="([^"]+)"[^>]*rel="next"', first.content.decode()).group(1)
    second = client.get(next_url.replace("&amp;", "&"))
    more = _ids(second)
    assert len(more) == 7 and not set(ids) & set(more)
    assert ids + more == sorted(ids + more, reverse=True)
    assert 'rel="next"' not in second.content.decode()


def test_htmx_request_gets_only_the_table(org, log, client_for):
    response = client_for(org["admin"]).get(
        LIST, {"action": "auth.login"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-table"
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="filter-form"' not in html
    assert _ids(response) == [log["login_failed"].pk, log["login"].pk]


def test_list_query_budget_does_not_grow(org, client_for, django_assert_max_num_queries):
    users = [make_user("sales_rep", org["team_a"]) for _ in range(5)]
    for i in range(60):
        audit_record(actor=users[i % 5], action="customer.update", object_id=i)
    client = client_for(org["admin"])
    client.get(LIST)  # warm the session
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert len(_ids(client.get(LIST))) == 50
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert client.get(LIST, {"user": users[0].username, "q": "x"}).status_code == 200


# --- detail ------------------------------------------------------------------------------


def test_detail_shows_diff_params_agent_and_hash(org, log, client_for):
    entry = log["update"]
    response = client_for(org["admin"]).get(reverse("audit:detail", args=[entry.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r"<th[^>]*>name</th><td[^>]*>华盛电子</td><td[^>]*>深圳华盛电子科技有限公司</td>", html
    )
    assert re.search(r"<th[^>]*>mobile</th><td[^>]*>138\*\*\*\*0001</td><td[^>]*>—</td>", html)
    assert "&quot;version&quot;: 3" in html
    assert "Firefox/120" in html
    assert entry.entry_hash in html and "内容与哈希一致" in html


def test_detail_of_unknown_entry_is_404(org, client_for):
    client = client_for(org["admin"])
    assert client.get(reverse("audit:detail", args=[999999])).status_code == 404


def test_detail_back_link_only_to_the_list(org, log, client_for):
    url = reverse("audit:detail", args=[log["update"].pk])
    client = client_for(org["admin"])
    html = client.get(url, {"back": f"{LIST}?action=auth.login"}).content.decode()
    assert f'href="{LIST}?action=auth.login"' in html
    html = client.get(url, {"back": "https://evil.example/"}).content.decode()
    assert 'href="https://evil.example/"' not in html
    assert f'href="{LIST}">' in html  # the plain list instead


# --- export ------------------------------------------------------------------------------


def test_csv_export_has_the_filtered_rows_escaped_and_is_audited(org, log, client_for):
    response = client_for(org["admin"]).post(EXPORT, {"format": "csv", "action": "customer.*"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["ID", "时间", "用户名"]
    assert [int(r[0]) for r in rows[1:]] == [log[n].pk for n in ("formula", "refused", "update")]
    formula = rows[1]
    assert formula[10] == '\'=HYPERLINK("http://evil","点我")'
    assert rows[3][6] == "编辑客户" and rows[3][7] == "customer.update"
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "audit.export" and entry.actor_id == org["admin"].pk
    assert entry.params == {
        "format": "csv",
        "filters": {"action": "customer.*"},
        "rows": 3,
        "truncated": False,
    }


def test_xlsx_export_contents(org, log, client_for):
    from python_calamine import CalamineWorkbook

    expected = list(
        AuditEntry.objects.filter(result="success").order_by("-pk").values_list("pk", flat=True)
    )
    response = client_for(org["admin"]).post(EXPORT, {"format": "xlsx", "result": "success"})
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0][0] == "ID"
    assert {log[n].pk for n in ("login", "update", "formula", "unknown")} <= set(expected)
    assert [int(r[0]) for r in rows[1:]] == expected
    # A string cell, never a formula: the text is kept as typed.
    assert any(r[10] == '=HYPERLINK("http://evil","点我")' for r in rows[1:])
    entry = AuditEntry.objects.latest("id")
    assert entry.params["format"] == "xlsx" and entry.params["rows"] == len(expected)
    assert entry.params["filters"] == {"result": "success"}


def test_export_cap_marks_truncation(org, log, client_for, settings):
    settings.AUDIT_EXPORT_MAX_ROWS = 2
    response = client_for(org["admin"]).post(EXPORT, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3
    entry = AuditEntry.objects.latest("id")
    assert entry.params["rows"] == 2 and entry.params["truncated"] is True


def test_export_with_bad_filters_is_refused_and_audited(org, log, client_for):
    client = client_for(org["admin"])
    response = client.post(EXPORT, {"format": "csv", "ip": "nope"})
    assert response.status_code == 302
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.result, entry.error_code) == ("audit.export", "failed", "ERR-006")
    response = client.post(EXPORT, {"format": "pdf"})
    assert response.status_code == 302


# --- integrity button --------------------------------------------------------------------


def test_verify_button_shows_ok_and_is_audited(org, log, client_for):
    total = AuditEntry.objects.count()
    response = client_for(org["admin"]).post(VERIFY, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "审计日志完整" in html and f"共校验 {total} 条" in html and "条/秒" in html
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "audit.verify" and entry.params["ok"] is True
    assert entry.params["checked"] == total


def test_verify_button_names_tampering_and_alerts_admins(org, log, client_for):
    target = log["update"]
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditentry SET object_repr = 'x' WHERE id = %s", [target.pk])
    response = client_for(org["admin"]).post(VERIFY)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "校验失败" in html and f"#{target.pk}" in html and "edited" in html
    entry = AuditEntry.objects.latest("id")
    assert entry.params["ok"] is False and entry.params["entry_id"] == target.pk
    alert = Notification.objects.get(recipient=org["admin"], kind="audit.tampered")
    assert alert.level == "alert" and alert.url == reverse("audit:detail", args=[target.pk])
