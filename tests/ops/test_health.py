"""/readyz, /metrics, JSON logs, the status and version pages."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.ops import backup_probe
from guanxi.ops.job_models import JobStatus, ScheduledJob, WorkerHeartbeat
from guanxi.ops.json_logging import JsonFormatter

pytestmark = pytest.mark.django_db


def test_readyz_reports_each_check_and_warns_without_worker_or_backup():
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["worker"]["status"] == "warn"  # no worker has ticked
    assert body["checks"]["backup"] == {"status": "warn", "age_seconds": None}
    assert body["checks"]["disk"]["free_mb"] > 0
    WorkerHeartbeat.objects.create(worker="host:1", seen_at=timezone.now())
    assert Client().get("/readyz").json()["checks"]["worker"]["status"] == "ok"


def test_readyz_fails_when_the_disk_is_nearly_full(settings):
    settings.GUANXI_MIN_FREE_DISK_MB = 10**12
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["status"] == "error"


def test_backup_age_seam_answers_none_without_backups_and_the_age_with_one(monkeypatch):
    now = timezone.now()
    assert backup_probe.backup_age_seconds(now) is None

    class FakeBackup:
        created_at = now - dt.timedelta(hours=30)

    monkeypatch.setattr(backup_probe, "last_backup", lambda: FakeBackup())
    assert backup_probe.backup_age_seconds(now) == 30 * 3600
    body = Client().get("/readyz").json()
    assert body["checks"]["backup"]["status"] == "warn"  # older than 26 hours


def test_metrics_exposes_requests_jobs_queue_and_backup_age(settings):
    ScheduledJob.objects.filter(name="reminders").update(last_status=JobStatus.FAILED, failures=3)
    client = Client()
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'guanxi_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert "guanxi_http_request_duration_seconds_bucket" in text
    assert 'guanxi_job_last_status{job="reminders",status="failed"} 1.0' in text
    assert 'guanxi_job_consecutive_failures{job="reminders"} 3.0' in text
    assert "guanxi_task_queue_depth " in text
    assert "guanxi_backup_age_seconds -1.0" in text
    assert "guanxi_worker_heartbeat_age_seconds -1.0" in text


def test_metrics_refuses_remote_callers_without_the_token(settings):
    remote = Client(REMOTE_ADDR="203.0.113.9")
    assert remote.get("/metrics").status_code == 403
    settings.GUANXI_METRICS_TOKEN = "s3cret-token"
    assert remote.get("/metrics").status_code == 403
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    ok = remote.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and b"guanxi_http_requests_total" in ok.content
    assert Client().get("/metrics").status_code == 403  # loopback needs the token once set


def test_json_log_lines_carry_the_fields():
    record = logging.LogRecord(
        "guanxi.worker", logging.ERROR, __file__, 1, "job %s 失败", ("x",), None
    )
    record.job = "reminders"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "job x 失败" and line["level"] == "ERROR"
    assert line["logger"] == "guanxi.worker" and line["job"] == "reminders"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exception"]


def test_status_page_for_system_managers(org, client_for):
    ScheduledJob.objects.filter(name="reminders").update(
        last_status=JobStatus.FAILED, last_result="RuntimeError: 邮件服务器无响应"
    )
    page = client_for(org["admin"]).get(reverse("ops:status"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "系统状态" in html and "暂无备份" in html and "邮件服务器无响应" in html
    assert client_for(org["rep_a"]).get(reverse("ops:status")).status_code == 403


def test_status_page_asks_for_attention_without_worker_or_backup(org, client_for, monkeypatch):
    def overall() -> str:
        html = client_for(org["admin"]).get(reverse("ops:status")).content.decode()
        return re.search(r'data-testid="overall">([^<]+)<', html).group(1)

    assert overall() == "需要关注"  # no worker heartbeat, no backup yet
    WorkerHeartbeat.objects.create(worker="host:1", seen_at=timezone.now())
    monkeypatch.setattr(
        "guanxi.ops.readiness.check_backup", lambda now: {"status": "ok", "age_seconds": 60}
    )
    assert overall() == "运行正常"
