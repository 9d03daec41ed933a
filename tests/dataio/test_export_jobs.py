"""Background exports (我的导出): a large page export becomes a job the worker writes (tasks
run inline under tests), the owner is notified and is the only one who can download it,
files expire, every step is audited; and ``guanxi export`` in every format and list."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from guanxi.audit.models import AuditEntry
from guanxi.dataio.export_jobs import export_job_run, purge_expired_exports
from guanxi.dataio.models import ExportJob, ExportStatus
from guanxi.workflow.models import Notification
from tests.dataio.export_support import (
    csv_rows,
    download,
    grant,
    pdf_text_chars,
    xlsx_rows,
    xml_root,
)

pytestmark = pytest.mark.django_db
EXPORT = reverse("dataio:export_customers")
JOBS = reverse("dataio:export_jobs")


@pytest.fixture
def small_threshold(settings, tmp_path):
    settings.GUANXI_EXPORT_BACKGROUND_ROWS = 1
    settings.DATA_DIR = tmp_path
    return tmp_path


def _queue(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(EXPORT, data)


def test_a_large_export_runs_in_the_background_and_only_its_owner_downloads_it(
    org, make_customer, client_for, small_threshold, django_capture_on_commit_callbacks
):
    make_customer(org["admin"], name="后台甲公司", status="cooperating")
    make_customer(org["admin"], name="后台乙公司", status="cooperating")
    make_customer(org["admin"], name="不在筛选内公司")
    client = client_for(org["admin"])
    response = _queue(
        client, django_capture_on_commit_callbacks, format="csv", status="cooperating"
    )
    assert response.status_code == 302 and response["Location"] == JOBS
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.DONE and job.rows == 2 and job.fmt == "csv"
    assert job.params == {"status": "cooperating", "_language": "zh-hans"}
    stored = small_threshold / job.stored_path
    assert stored.is_file() and stored.is_relative_to(small_threshold / "exports")
    note = Notification.objects.get(recipient=org["admin"], kind="export")
    download_url = reverse("dataio:export_job_download", args=[job.pk])
    assert note.url == download_url and "2" in note.title
    page = client.get(JOBS).content.decode()
    assert download_url in page and "已完成" in page and "客户状态：合作客户" in page
    rows = csv_rows(download(client.get(download_url)))
    assert sorted(r["客户名称"] for r in rows) == ["后台乙公司", "后台甲公司"]
    actions = list(
        AuditEntry.objects.filter(object_type__in=("export_job", "customer"))
        .exclude(action="customer.create")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["export_job.create", "customer.export", "export_job.download"]
    written = AuditEntry.objects.get(action="customer.export")
    assert written.params["job"] == job.pk and written.params["rows"] == 2
    # Anyone else — even someone who may export the same customers — finds nothing.
    other = client_for(org["data_admin"])
    assert other.get(download_url).status_code == 404
    assert download_url not in other.get(JOBS).content.decode()


def test_small_exports_stay_in_the_request(org, make_customer, client_for, settings):
    settings.GUANXI_EXPORT_BACKGROUND_ROWS = 5
    make_customer(org["admin"])
    response = client_for(org["admin"]).post(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200 and len(xlsx_rows(download(response))) == 2
    assert not ExportJob.objects.exists()


def test_a_job_that_cannot_be_written_fails_visibly(org, small_threshold, client_for):
    job = ExportJob.objects.create(
        object_type="customers", fmt="csv", params={"created_from": "昨天"}, created_by=org["admin"]
    )
    assert export_job_run(job.pk) == "failed"
    assert export_job_run(job.pk) == "skipped"  # runs once
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and "created_from" not in job.failure
    assert job.failure  # the filter's message, in words
    note = Notification.objects.get(recipient=org["admin"], kind="export")
    assert note.level == "warning" and note.url == JOBS
    assert AuditEntry.objects.filter(action="customer.export", result="failed").exists()
    assert "失败" in client_for(org["admin"]).get(JOBS).content.decode()


def test_a_job_whose_owner_lost_the_right_is_refused(org, small_threshold):
    job = ExportJob.objects.create(
        object_type="contacts", fmt="csv", params={}, created_by=org["rep_a"]
    )
    assert export_job_run(job.pk) == "failed"
    assert AuditEntry.objects.filter(action="contact.export", result="denied").exists()


def test_old_files_are_deleted_and_lost_jobs_failed(
    org, make_customer, client_for, small_threshold, django_capture_on_commit_callbacks
):
    make_customer(org["admin"])
    make_customer(org["admin"])
    client = client_for(org["admin"])
    _queue(client, django_capture_on_commit_callbacks, format="json")
    _queue(client, django_capture_on_commit_callbacks, format="xml")
    old, recent = ExportJob.objects.order_by("pk")
    ExportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    stray = small_threshold / "exports" / "99" / "1-stray.csv.part"
    stray.parent.mkdir(parents=True)
    stray.write_text("x")
    week_ago = (timezone.now() - dt.timedelta(days=8)).timestamp()
    os.utime(stray, (week_ago, week_ago))
    lost = ExportJob.objects.create(object_type="customers", fmt="csv", created_by=org["admin"])
    ExportJob.objects.filter(pk=lost.pk).update(
        status=ExportStatus.RUNNING, created_at=timezone.now() - dt.timedelta(days=2)
    )
    assert purge_expired_exports() == 2
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.stored_path == "" and recent.stored_path and not stray.exists()
    assert (small_threshold / recent.stored_path).is_file()
    assert ExportJob.objects.get(pk=lost.pk).status == ExportStatus.FAILED
    download_url = reverse("dataio:export_job_download", args=[old.pk])
    assert client.get(download_url).status_code == 404
    assert "已过期" in client.get(JOBS).content.decode()
    assert AuditEntry.objects.filter(action="export_job.purge").exists()
    assert purge_expired_exports() == 0  # idempotent


def test_the_purge_is_a_nightly_scheduled_job():
    from guanxi.ops.schedule import next_run, registered_jobs

    cron = registered_jobs()["purge_exports"].cron
    shanghai = dt.datetime(2026, 11, 24, 3, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert next_run(cron, shanghai - dt.timedelta(minutes=1)) == shanghai
    assert next_run(cron, shanghai) == shanghai + dt.timedelta(days=1)


def test_command_line_exports_every_list_in_every_format(org, make_customer, tmp_path):
    from guanxi.customers import contacts, follow_ups

    customer = make_customer(org["admin"], name="命令行公司")
    contacts.contact_create(
        actor=org["admin"], customer_id=customer.pk, data={"name": "钱七", "mobile": "13700001111"}
    )
    follow_ups.follow_up_create(
        actor=org["admin"],
        customer_id=customer.pk,
        data={"method": "visit", "content": "上门洽谈"},
    )
    out: dict[str, Path] = {}
    for kind, fmt in (
        ("customers", "xml"),
        ("customers", "pdf"),
        ("contacts", "csv"),
        ("follow-ups", "json"),
        ("follow-ups", "xlsx"),
    ):
        out[f"{kind}.{fmt}"] = tmp_path / f"{kind}.{fmt}"
        call_command("export", kind, "--format", fmt, "-o", str(out[f"{kind}.{fmt}"]))
    customers = xml_root(out["customers.xml"].read_bytes())
    assert [c.findtext("name") for c in customers] == ["命令行公司"]
    assert set("命令行公司") <= pdf_text_chars(out["customers.pdf"].read_bytes())
    people = csv_rows(out["contacts.csv"].read_bytes())
    assert sorted(r["姓名"] for r in people) == ["张三", "钱七"]
    records = json.loads(out["follow-ups.json"].read_text())
    assert [r["content"] for r in records] == ["上门洽谈"] and records[0]["method"] == "拜访"
    assert xlsx_rows(out["follow-ups.xlsx"].read_bytes())[1][5] == "上门洽谈"
    scoped = tmp_path / "rep.csv"
    grant(org["rep_a"], "export_customer")
    call_command(
        "export", "contacts", "--format", "csv", "-o", str(scoped), "--as", org["rep_a"].username
    )
    assert csv_rows(scoped.read_bytes()) == []  # the rep's scope holds none of them
    assert AuditEntry.objects.filter(action="contact.export", actor=org["rep_a"]).exists()
