"""使用情况分析: sign-ins, actions, follow-up next steps and completeness per department,
within the viewer's scope, equal to counts written out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.accounts.models import LoginAttempt
from guanxi.audit.models import AuditEntry
from guanxi.customers import follow_ups
from guanxi.customers.models import Customer
from guanxi.reports.definitions import build_report
from guanxi.reports.usage import usage_summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def usage(org: dict[str, Any], make_customer: Any) -> dict[str, Any]:
    now = timezone.now()
    mine = [make_customer(org["rep_a"]) for _ in range(2)]
    theirs = make_customer(org["rep_b"])
    for n, customer in enumerate([*mine, theirs]):
        owner = org["rep_a"] if customer in mine else org["rep_b"]
        follow_ups.follow_up_create(
            actor=owner,
            customer_id=customer.pk,
            data={
                "method": "电话",
                "content": "沟通",
                "followed_at": now - dt.timedelta(hours=1),
                # the first of rep_a's follow-ups names a next step, the others do not
                **({"next_follow_up_at": now + dt.timedelta(days=3)} if n == 0 else {}),
            },
        )
    for user, success in ((org["rep_a"], True), (org["rep_a"], True), (org["rep_b"], False)):
        LoginAttempt.objects.create(username=user.username, user=user, success=success)
    old = LoginAttempt.objects.create(username="x", user=org["manager"], success=True)
    LoginAttempt.objects.filter(pk=old.pk).update(occurred_at=now - dt.timedelta(days=90))
    return {"mine": mine, "theirs": theirs}


def _by_department(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["department"]: row for row in data["departments"]}


def _range() -> dict[str, dt.date]:
    today = timezone.localdate()
    return {"date_from": today - dt.timedelta(days=29), "date_to": today}


def test_manager_sees_each_team_counted_by_hand(org, usage):
    rows = _by_department(usage_summary(user=org["manager"], **_range()))
    assert set(rows) == {"销售部", "销售一组", "销售二组"}  # the sales tree, nobody else
    team_a, team_b = rows["销售一组"], rows["销售二组"]
    assert (team_a["users"], team_a["signed_in"]) == (1, 1)  # two sign-ins, one person
    assert (team_b["users"], team_b["signed_in"]) == (1, 0)  # a failed sign-in does not count
    assert rows["销售部"]["signed_in"] == 0  # the manager's sign-in was 90 days ago
    assert (team_a["follow_ups"], team_a["with_next_step"]) == (2, 1)
    assert (team_b["follow_ups"], team_b["with_next_step"]) == (1, 0)
    assert team_a["customers"] == 2 and team_b["customers"] == 1
    expected = sum(c.completeness for c in Customer.objects.filter(owner=org["rep_a"])) / 2
    assert team_a["completeness"] == pytest.approx(expected)
    actions_a = AuditEntry.objects.filter(actor=org["rep_a"], result="success").count()
    assert team_a["actions"] == actions_a > 0
    modules = {m["module"]: m for m in usage_summary(user=org["manager"], **_range())["modules"]}
    assert modules["follow_up"]["users"] == 2  # both reps recorded follow-ups


def test_a_rep_sees_only_themselves_and_admin_sees_everyone(org, usage):
    rep_rows = _by_department(usage_summary(user=org["rep_a"], **_range()))
    assert list(rep_rows) == ["销售一组"]
    assert rep_rows["销售一组"]["users"] == 1 and rep_rows["销售一组"]["customers"] == 2
    admin_rows = _by_department(usage_summary(user=org["admin"], **_range()))
    assert {"总公司", "销售部", "销售一组", "销售二组", "客服部"} <= set(admin_rows)
    assert sum(r["users"] for r in admin_rows.values()) == 9  # every active user of the org


def test_period_excludes_older_activity(org, usage):
    today = timezone.localdate()
    long_ago = {"date_from": today - dt.timedelta(days=120), "date_to": today - dt.timedelta(60)}
    rows = _by_department(usage_summary(user=org["manager"], **long_ago))
    assert rows["销售部"]["signed_in"] == 1  # the 90-day-old sign-in
    assert rows["销售一组"]["signed_in"] == 0 and rows["销售一组"]["follow_ups"] == 0


def test_page_and_export_show_the_same_numbers(org, usage, client_for):
    page = client_for(org["manager"]).get(reverse("reports:usage"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "使用情况分析" in html and "销售一组" in html and "含下一步的跟进" in html
    result = build_report(user=org["manager"], key="usage", params={})
    departments = result.tables[0]
    row = next(r for r in departments.rows if r[0] == "销售一组")
    assert row[1:4] == [1, 1, "100.0%"] and row[5:7] == [2, "50.0%"]
    export = client_for(org["manager"]).get(
        reverse("reports:export", args=["usage"]) + "?format=xlsx"
    )
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client_for(org["manager"]).get(reverse("reports:usage") + "?from=2026-13-40")
    assert bad.status_code == 422 and "from" in bad.content.decode()


def test_users_without_report_access_are_refused(org, client_for):
    from guanxi.accounts.models import Role

    role = Role.objects.get(code="sales_rep")
    role.permissions.remove(*role.permissions.filter(codename="view_report"))
    assert client_for(org["rep_a"]).get(reverse("reports:usage")).status_code == 403
