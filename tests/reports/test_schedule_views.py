"""定时报表 pages over HTTP: list, create, edit, run now, delete; who sees what."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from guanxi.accounts.models import Role
from guanxi.reports.schedule_models import ReportSchedule
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def form(**extra: Any) -> dict[str, Any]:
    values = {
        "name": "每周客户分布",
        "report_key": "distribution",
        "params": "by=status",
        "frequency": "weekly",
        "time_of_day": "08:00",
        "weekday": "0",
        "day_of_month": "",
        "file_format": "pdf",
        "enabled": "on",
    }
    values.update(extra)
    return values


def test_manager_creates_runs_edits_and_deletes(org, client_for) -> None:
    manager = org["manager"]
    manager.email = "manager@example.com"
    manager.save(update_fields=["email"])
    client = client_for(manager)
    page = client.get(reverse("reports:schedules"))
    assert page.status_code == 200 and "还没有定时报表" in page.content.decode()
    assert 'href="/reports/schedules/"' in page.content.decode()  # the menu entry
    role = Role.objects.get(code="sales_rep")
    response = client.post(
        reverse("reports:schedule_create"),
        form(recipient_users=[manager.pk], recipient_roles=[role.pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = ReportSchedule.objects.get()
    assert schedule.params == {"by": "status"}
    assert list(schedule.recipient_roles.all()) == [role]
    listing = client.get(reverse("reports:schedules")).content.decode()
    assert "每周客户分布" in listing and role.name in listing and "by=status" in listing
    run = client.post(reverse("reports:schedule_run", args=[schedule.pk]))
    assert run.status_code == 302
    assert [m.to for m in mail.outbox] == [["manager@example.com"]]  # the reps have no e-mail
    listing = client.get(reverse("reports:schedules")).content.decode()
    assert "未设置邮箱" in listing
    edit = client.post(
        reverse("reports:schedule_edit", args=[schedule.pk]),
        form(name="每月分布", frequency="monthly", day_of_month="31", recipient_users=[manager.pk]),
    )
    assert edit.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.day_of_month) == ("每月分布", 31)
    confirm = client.get(reverse("reports:schedule_delete", args=[schedule.pk]))
    assert "确定删除" in confirm.content.decode()
    client.post(reverse("reports:schedule_delete", args=[schedule.pk]))
    assert not ReportSchedule.objects.exists()


def test_form_errors_are_shown_not_500(org, client_for) -> None:
    client = client_for(org["manager"])
    response = client.post(
        reverse("reports:schedule_create"),
        form(params="by=nonsense", recipient_users=[org["manager"].pk]),
    )
    assert response.status_code == 200
    assert "报表参数有误" in response.content.decode()
    response = client.post(reverse("reports:schedule_create"), form(weekday=""))
    html = response.content.decode()
    assert "每周发送须选择星期几" in html or "请至少选择一个接收人" in html
    assert not ReportSchedule.objects.exists()


def test_rep_page_offers_only_themselves_and_others_schedules_are_404(org, client_for) -> None:
    rep = org["rep_a"]
    client = client_for(rep)
    page = client.get(reverse("reports:schedule_create")).content.decode()
    assert 'name="recipient_roles"' not in page
    assert "需要“管理定时报表”权限" in page
    refused = client.post(
        reverse("reports:schedule_create"), form(recipient_users=[org["rep_b"].pk])
    )
    assert refused.status_code == 200 and not ReportSchedule.objects.exists()
    theirs = client_for(org["manager"]).post(
        reverse("reports:schedule_create"), form(recipient_users=[org["manager"].pk])
    )
    assert theirs.status_code == 302
    other = ReportSchedule.objects.get()
    assert "每周客户分布" not in client.get(reverse("reports:schedules")).content.decode()
    assert client.get(reverse("reports:schedule_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("reports:schedule_run", args=[other.pk])).status_code == 404
    assert client.post(reverse("reports:schedule_delete", args=[other.pk])).status_code == 404
    assert ReportSchedule.objects.filter(pk=other.pk).exists()


def test_prefilled_from_a_report_page_link(org, client_for) -> None:
    client = client_for(org["analyst"])
    page = client.get(reverse("reports:schedule_create"), {"key": "growth", "period": "week"})
    html = page.content.decode()
    assert 'value="period=week"' in html
    assert '<option value="growth" selected>' in html


def test_without_report_right(org, client_for) -> None:
    nobody = make_user(None, org["sales"])
    assert client_for(nobody).get(reverse("reports:schedules")).status_code == 403
    assert client_for(nobody).get(reverse("reports:schedule_create")).status_code == 403
