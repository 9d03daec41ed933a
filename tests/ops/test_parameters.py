"""系统参数: typed values over settings defaults, read by the policies, edited with
validation and audit; the company name and logo in the top bar."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from guanxi.accounts import lockout, password_policy, session_policy
from guanxi.audit.models import AuditEntry
from guanxi.customers import recycle_selectors
from guanxi.ops.parameter_models import SystemParameter
from guanxi.ops.parameters import PARAMETERS, invalidate, system_parameter

pytestmark = pytest.mark.django_db
URL = "/settings/system/parameters/"


def _png(size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_defaults_come_from_settings_at_call_time(settings):
    settings.GUANXI_LOCKOUT_FAILURES = 7
    settings.GUANXI_SESSION_IDLE_MINUTES = 45
    assert system_parameter("lockout_failures") == 7
    assert lockout.max_failures() == 7
    assert session_policy.idle_timeout().total_seconds() == 45 * 60


def test_a_saved_value_overrides_the_setting_for_every_reader(org, client_for):
    client = client_for(org["admin"])
    data = {p.key: system_parameter(p.key) for p in PARAMETERS}
    data.update(
        session_idle_minutes=20, password_min_length=14, recycle_bin_days=60, lockout_minutes=90
    )
    response = client.post(URL, data)
    assert response.status_code == 302
    assert session_policy.idle_timeout().total_seconds() == 20 * 60
    assert password_policy.min_length() == 14
    assert recycle_selectors.retention_days() == 60
    assert lockout.lock_duration().total_seconds() == 90 * 60
    entry = AuditEntry.objects.get(action="system_parameter.update", result="success")
    assert entry.changes["password_min_length"] == [10, 14]
    assert set(entry.changes) == {
        "session_idle_minutes",
        "password_min_length",
        "recycle_bin_days",
        "lockout_minutes",
    }
    assert SystemParameter.objects.get(key="recycle_bin_days").updated_by == org["admin"]
    page = client.get(URL).content.decode()
    assert 'name="password_min_length" id="id_password_min_length" value="14"' in page


def test_out_of_bounds_values_are_refused_whole(org, client_for):
    client = client_for(org["admin"])
    response = client.post(
        URL, {"password_min_length": "3", "lockout_failures": "abc", "session_idle_minutes": "25"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "取值范围为 6 至 64" in html and "请输入整数" in html
    assert 'value="abc"' in html  # what was typed stays in the form
    assert not SystemParameter.objects.exists()  # nothing half-saved
    assert AuditEntry.objects.get(action="system_parameter.update").result == "failed"
    response = client.post(URL, {"session_limit_policy": "shout"})
    assert response.status_code == 422 and "请选择列表中的一项" in response.content.decode()


def test_only_system_managers_may_see_or_change(org, client_for):
    for user in (org["rep_a"], org["data_admin"]):
        assert client_for(user).get(URL).status_code == 403
        assert client_for(user).post(URL, {"password_min_length": 20}).status_code == 403
    assert not SystemParameter.objects.exists()


def test_company_name_and_logo_in_the_top_bar(org, client_for):
    client = client_for(org["admin"])
    assert client.post(URL, {"company_name": "华信贸易有限公司"}).status_code == 302
    home = client_for(org["rep_a"]).get(reverse("home")).content.decode()
    assert "华信贸易有限公司" in home and reverse("ops:logo") not in home
    upload = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    assert client.post(reverse("ops:logo_upload"), {"logo": upload}).status_code == 302
    home = client_for(org["rep_a"]).get(reverse("home")).content.decode()
    assert reverse("ops:logo") in home
    logo = client.get(reverse("ops:logo"))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == _png()
    assert AuditEntry.objects.filter(action="system_parameter.logo", result="success").exists()
    assert client.post(reverse("ops:logo_upload"), {"remove": "1"}).status_code == 302
    assert client.get(reverse("ops:logo")).status_code == 404


def test_a_fake_image_is_refused(org, client_for):
    client = client_for(org["admin"])
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = client.post(reverse("ops:logo_upload"), {"logo": fake})
    assert response.status_code == 422 and "请上传 PNG" in response.content.decode()
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (600 * 1024))
    assert client.post(reverse("ops:logo_upload"), {"logo": big}).status_code == 422
    assert not SystemParameter.objects.filter(key="company_logo").exists()


def test_reads_are_remembered_within_a_request(org, django_assert_num_queries):
    from guanxi.core.request_memo import memo_scope

    SystemParameter.objects.create(key="max_sessions", value=5)
    invalidate()
    with memo_scope(), django_assert_num_queries(1):
        assert system_parameter("max_sessions") == 5
        assert system_parameter("password_history") == 5
        assert system_parameter("max_sessions") == 5
    with memo_scope(), django_assert_num_queries(0):  # the shared cache answers
        assert system_parameter("max_sessions") == 5


def test_backup_targets_are_system_parameters(org, client_for, settings, tmp_path):
    """Off-site target and retention are edited on 系统参数 and used by the next backup."""
    from guanxi.ops.backup_service import backup_create

    settings.GUANXI_BACKUP_OFFSITE_DIR = ""
    client = client_for(org["admin"])
    base = {p.key: system_parameter(p.key) for p in PARAMETERS}
    for bad, message in (
        ("relative/dir", "请填写绝对路径"),
        ("s3://", "S3 目标须为"),
        (str(settings.GUANXI_BACKUP_DIR) + "/copy", "不能位于本地备份目录之内"),
    ):
        response = client.post(URL, {**base, "backup_offsite_target": bad})
        assert response.status_code == 422 and message in response.content.decode()
    target = tmp_path / "second-disk"
    response = client.post(
        URL, {**base, "backup_offsite_target": str(target), "backup_offsite_keep_days": 120}
    )
    assert response.status_code == 302
    assert system_parameter("backup_offsite_keep_days") == 120
    backup = backup_create(kind="full")
    assert backup.offsite == str(target)
    assert (target / f"{backup.backup_id}.gxb").exists()
