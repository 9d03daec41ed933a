"""定时任务 pages: list, edit with validation and audit, 立即运行, and who may see them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEntry
from guanxi.ops import schedule
from guanxi.ops.job_models import JobRun, JobStatus, ScheduledJob

pytestmark = pytest.mark.django_db


def test_admin_sees_the_schedule_and_others_are_refused(org, client_for):
    page = client_for(org["admin"]).get(reverse("ops:jobs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "提醒检查" in html and "*/15 * * * *" in html and "立即运行" in html
    # Jobs of every app are listed before any worker has run: backups, report schedules.
    for name in ("backup_full", "backup_incremental", "backup_verify", "report_schedules"):
        assert f'data-job="{name}"' in html
    assert reverse("ops:jobs") in client_for(org["admin"]).get(reverse("home")).content.decode()
    for user in (org["rep_a"], org["manager"], org["data_admin"]):
        assert client_for(user).get(reverse("ops:jobs")).status_code == 403
    job = ScheduledJob.objects.get(name="reminders")
    response = client_for(org["rep_a"]).post(reverse("ops:job_edit", args=[job.pk]), {})
    assert response.status_code == 403


def test_edit_validates_the_cron_and_changes_nothing_on_error(org, client_for):
    job = ScheduledJob.objects.get(name="daily_digest")
    url = reverse("ops:job_edit", args=[job.pk])
    data = {"enabled": "on", "cron": "0 25 * * *", "max_retries": 3, "retry_delay_seconds": 300}
    response = client_for(org["admin"]).post(url, data)
    assert response.status_code == 422
    assert "Cron 表达式无效" in response.content.decode()
    assert 'value="0 25 * * *"' in response.content.decode()  # what was typed is kept
    job.refresh_from_db()
    assert job.cron == "0 8 * * *"
    refused = AuditEntry.objects.get(action="job.update")
    assert refused.result == "failed"


def test_edit_saves_reschedules_and_audits_before_after(org, client_for):
    job = ScheduledJob.objects.get(name="daily_digest")
    url = reverse("ops:job_edit", args=[job.pk])
    data = {"enabled": "on", "cron": "30 7 * * 1-5", "max_retries": 1, "retry_delay_seconds": 120}
    response = client_for(org["admin"]).post(url, data)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.cron == "30 7 * * 1-5" and job.max_retries == 1
    assert job.next_run_at is not None
    local = job.next_run_at.astimezone(schedule.ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (7, 30) and local.isoweekday() <= 5
    entry = AuditEntry.objects.get(action="job.update", result="success")
    assert entry.changes["cron"] == ["0 8 * * *", "30 7 * * 1-5"]
    assert entry.actor_id == org["admin"].pk


def test_disabling_clears_the_next_run(org, client_for):
    job = ScheduledJob.objects.get(name="tag_rules")
    url = reverse("ops:job_edit", args=[job.pk])
    data = {"cron": job.cron, "max_retries": 2, "retry_delay_seconds": 600}  # enabled unticked
    assert client_for(org["admin"]).post(url, data).status_code == 302
    job.refresh_from_db()
    assert not job.enabled and job.next_run_at is None
    assert "已停用" in client_for(org["admin"]).get(reverse("ops:jobs")).content.decode()


def test_run_now_runs_once_and_shows_in_the_history(
    org, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    spec = schedule.JobSpec("probe", "探针", "0 * * * *", lambda: calls.append(1) or 42)
    monkeypatch.setitem(schedule._REGISTRY, "probe", spec)
    job = ScheduledJob.objects.create(name="probe", title="探针任务", cron="0 * * * *")
    client = client_for(org["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ops:job_run_now", args=[job.pk]))
    assert response.status_code == 302 and calls == [1]  # immediate mode under tests
    run = JobRun.objects.get(job=job)
    assert run.manual and run.status == JobStatus.SUCCESS and run.result == "42"
    assert AuditEntry.objects.filter(action="job.run_now", object_id=str(job.pk)).exists()
    page = client.get(reverse("ops:job_edit", args=[job.pk])).content.decode()
    assert "手动" in page and "42" in page
    assert (
        client_for(org["rep_a"]).post(reverse("ops:job_run_now", args=[job.pk])).status_code == 403
    )
    assert calls == [1]


def test_unknown_job_is_404(org, client_for):
    assert client_for(org["admin"]).get(reverse("ops:job_edit", args=[999999])).status_code == 404
