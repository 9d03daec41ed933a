"""The 数据备份 / 数据恢复 / 备份验证记录 pages: admins only, typed confirmation, logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guanxi.audit.models import AuditEntry
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Customer
from guanxi.ops.backup_models import Backup, BackupVerification, RestoreLog
from guanxi.ops.backup_service import backup_create
from guanxi.workflow.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("name", ["ops:backups", "ops:restore", "ops:backup_verifications"])
def test_pages_are_for_backup_managers_only(
    org: dict[str, Any], client_for: Any, backup_dirs: dict[str, Path], name: str
) -> None:
    from django.urls import reverse

    assert client_for(org["data_admin"]).get(reverse(name)).status_code == 403
    page = client_for(org["admin"]).get(reverse(name))
    assert page.status_code == 200
    assert "数据备份" in page.content.decode()


def test_backup_now_lists_the_backup(
    org: dict[str, Any], client_for: Any, backup_dirs: dict[str, Path]
) -> None:
    client = client_for(org["admin"])
    response = client.post("/settings/system/backups/now/", {"kind": "full"}, follow=True)
    backup = Backup.objects.get()
    assert (backup.kind, backup.created_by) == ("full", org["admin"])
    assert backup.backup_id in response.content.decode()
    assert AuditEntry.objects.filter(action="backup_create", object_repr=backup.backup_id).exists()
    assert (backup_dirs["offsite"] / backup.file_name).exists()
    refused = client_for(org["rep_a"]).post("/settings/system/backups/now/", {"kind": "full"})
    assert refused.status_code == 403 and Backup.objects.count() == 1
    with pytest.raises(PermissionDenied):
        backup_create(kind="full", actor=org["rep_a"])
    assert Backup.objects.count() == 1
    assert AuditEntry.objects.filter(
        action="backup_create", result="denied", actor=org["rep_a"]
    ).exists()


def test_restore_needs_the_typed_backup_id(
    org: dict[str, Any], client_for: Any, make_customer: Any, backup_dirs: dict[str, Path]
) -> None:
    make_customer(org["rep_a"], name="备份时已有")
    backup = backup_create(kind="full")
    make_customer(org["rep_a"], name="备份后新增")
    client = client_for(org["admin"])
    wrong = client.post(
        "/settings/system/backups/restore/", {"backup": backup.backup_id, "confirm": "yes"}
    )
    assert wrong.status_code == 422
    assert "请输入所选备份的编号以确认恢复" in wrong.content.decode()
    assert Customer.objects.count() == 2 and not RestoreLog.objects.exists()

    done = client.post(
        "/settings/system/backups/restore/",
        {"backup": backup.backup_id, "confirm": backup.backup_id},
        follow=True,
    )
    assert "已恢复到备份" in done.content.decode()
    assert list(Customer.objects.values_list("name", flat=True)) == ["备份时已有"]
    log = RestoreLog.objects.get()
    assert (log.ok, log.actor_username, log.backup_id) == (True, "admin_user", backup.backup_id)
    assert Backup.objects.filter(trigger="safety", backup_id=log.safety_backup_id).exists()
    assert AuditEntry.objects.filter(action="backup_restore", result="success").exists()


def test_verification_records_and_alerts_on_failure(
    org: dict[str, Any], client_for: Any, make_customer: Any, backup_dirs: dict[str, Path]
) -> None:
    make_customer(org["rep_a"])
    good = backup_create(kind="full")
    client = client_for(org["admin"])
    client.post("/settings/system/backups/verifications/")
    record = BackupVerification.objects.get()
    assert (record.backup_id, record.ok) == (good.backup_id, True), record.message
    assert record.rows > 0

    # A tampered archive must fail verification and notify the admins.
    path = backup_dirs["local"] / good.file_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    page = client.post("/settings/system/backups/verifications/", follow=True)
    failed = BackupVerification.objects.filter(ok=False).get()
    assert "校验和不符" in failed.message
    assert "未通过" in page.content.decode()
    assert Notification.objects.filter(
        recipient=org["admin"], kind="backup_verification_failed"
    ).exists()
