"""Full + incremental backups restore to exactly the state at the incremental."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.ops.backup_db import live_database
from guanxi.ops.backup_models import Backup, RestoreLog
from guanxi.ops.backup_service import (
    BackupError,
    backup_create,
    catalog_sync,
    purge_expired,
    table_specs,
)
from guanxi.ops.restore_service import restore_backup

pytestmark = pytest.mark.django_db(transaction=True)

AUDIT = {"audit_auditentry", "audit_auditchainhead"}


def checksums() -> dict[str, tuple[int, str]]:
    states = live_database().scan(table_specs())
    return {name: (st.rows, st.checksum()) for name, st in states.items()}


def test_full_then_incremental_restores_after_wipe(
    org: dict[str, Any], make_customer: Any, backup_dirs: dict[str, Path]
) -> None:
    media = backup_dirs["media"]
    kept = make_customer(org["rep_a"], name="保留客户", mobile="13900000001")
    changed = make_customer(org["rep_a"], name="修改客户", mobile="13900000002")
    deleted = make_customer(org["rep_b"], name="删除客户", mobile="13900000003")
    (media / "a.txt").write_text("原始")
    (media / "gone.txt").write_text("将删除")
    full = backup_create(kind="full")
    assert full.kind == "full" and full.manifest["tables"]["customers_customer"]["rows"] == 3

    Customer.objects.filter(pk=changed.pk).update(contact_name="李四", notes="改过")
    Customer.objects.filter(pk=deleted.pk).delete()
    added = make_customer(org["rep_b"], name="新增客户", mobile="13900000004")
    (media / "a.txt").write_text("改过的内容")
    (media / "gone.txt").unlink()
    (media / "sub").mkdir()
    (media / "sub" / "new.txt").write_text("新文件")
    inc = backup_create(kind="incremental")
    assert inc.kind == "incremental" and inc.base_id == full.pk
    assert inc.manifest["chain"] == [full.backup_id, inc.backup_id]
    assert inc.manifest["changes"]["customers_customer"]["deleted"] == 1
    assert inc.bytes < full.bytes
    expected = checksums()

    call_command("flush", interactive=False, verbosity=0)
    for path in media.rglob("*"):
        if path.is_file():
            path.unlink()
    assert Customer.objects.count() == 0 and Backup.objects.count() == 0
    assert catalog_sync() == 2

    log = restore_backup(backup=Backup.objects.get(backup_id=inc.backup_id), confirmed=True)
    assert log.ok, log.message
    assert log.chain == [full.backup_id, inc.backup_id]
    after = checksums()
    assert {t: v for t, v in after.items() if t not in AUDIT} == {
        t: v for t, v in expected.items() if t not in AUDIT
    }
    # The audit trail is the one at the incremental's snapshot plus the restore's own entry.
    restored_audit = inc.manifest["tables"]["audit_auditentry"]["rows"]
    assert after["audit_auditentry"][0] == restored_audit + 1
    names = set(Customer.objects.values_list("name", flat=True))
    assert names == {"保留客户", "修改客户", "新增客户"}
    assert Customer.objects.get(pk=changed.pk).contact_name == "李四"
    assert Customer.objects.get(pk=added.pk).mobile == "13900000004"
    assert Customer.objects.get(pk=kept.pk).mobile == "13900000001"
    assert (media / "a.txt").read_text() == "改过的内容"
    assert (media / "sub" / "new.txt").read_text() == "新文件"
    assert not (media / "gone.txt").exists()
    # The catalog survived the restore: both backups, the safety backup and the log.
    assert Backup.objects.filter(trigger="safety").count() == 1
    assert RestoreLog.objects.filter(backup_id=inc.backup_id, ok=True).count() == 1
    # New rows after the restore get fresh ids (sequences moved past restored ids).
    newer = make_customer(org["admin"], name="恢复后新增")
    assert newer.pk > added.pk


def test_restore_refuses_without_the_data_keys_it_needs(
    org: dict[str, Any], make_customer: Any, backup_dirs: dict[str, Path], settings: Any
) -> None:
    make_customer(org["rep_a"], mobile="13900000009")
    backup = backup_create(kind="full")
    assert [k["id"] for k in backup.manifest["data_keys"]] == ["k1", "blind_index"]
    settings.ENCRYPTION_KEYS = "k2:" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(BackupError, match="缺少恢复所需的数据加密密钥: k1"):
        restore_backup(backup=backup, confirmed=True)
    assert not RestoreLog.objects.exists()
    assert Backup.objects.count() == 1  # refused before the safety backup


def test_retention_keeps_local_30_and_offsite_90_days(
    org: dict[str, Any], backup_dirs: dict[str, Path]
) -> None:
    old = backup_create(kind="full")
    backup_create(kind="full")
    Backup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    purge_expired()
    assert not (backup_dirs["local"] / old.file_name).exists()
    assert (backup_dirs["offsite"] / old.file_name).exists()
    assert Backup.objects.filter(pk=old.pk).exists()  # still restorable from off-site
    Backup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))
    purge_expired()
    assert not (backup_dirs["offsite"] / old.file_name).exists()
    assert not Backup.objects.filter(pk=old.pk).exists()
