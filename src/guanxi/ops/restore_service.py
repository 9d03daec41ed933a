"""Restoring a backup chain (the full backup and its incrementals up to the chosen one).

The live restore takes a safety backup first, replaces the database and media, then proves
the result: every table's row count and checksum must equal the manifest's, and encrypted
fields must decrypt with the configured keys. Stop ``guanxi worker`` and the web processes
for the duration (a request writing mid-restore would be overwritten or break the check).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.utils import timezone

from guanxi.audit.models import AuditResult
from guanxi.audit.services import audit_record, audited_refusals
from guanxi.core.crypto import DecryptionError, EncryptedTextField, decrypt
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.ops.backup_archive import extract_all, file_sha256
from guanxi.ops.backup_db import live_database
from guanxi.ops.backup_models import Backup, BackupTrigger, BackupVerification, RestoreLog
from guanxi.ops.backup_service import (
    BackupError,
    backup_create,
    backup_dir,
    data_key_fingerprints,
    fetch_files,
)

CONFIRM_REQUIRED = "请确认：当前数据将被覆盖"


def backup_chain(backup: Backup) -> list[Backup]:
    """The full backup and every incremental after it, up to ``backup`` (oldest first)."""
    ids = backup.manifest.get("chain") or [backup.backup_id]
    found = {b.backup_id: b for b in Backup.objects.filter(backup_id__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise BackupError(f"备份链不完整，缺少: {', '.join(missing)}")
    return [found[i] for i in ids]


def check_keys(backup: Backup) -> None:
    """Refuse before touching anything when the keys the backup needs are not configured."""
    have = {(k["id"], k["fingerprint"]) for k in data_key_fingerprints()}
    need = {(k["id"], k["fingerprint"]) for k in backup.manifest.get("data_keys", [])}
    if need - have:
        names = ", ".join(sorted(k for k, _ in need - have))
        raise BackupError(f"缺少恢复所需的数据加密密钥: {names}（请配置 GUANXI_ENCRYPTION_KEYS）")


def restore_chain_into(db: Any, chain: list[Backup], work: Path, *, media: bool) -> None:
    """Full dump, then each incremental's deletes and upserts, into ``db``."""
    for backup in chain:
        path = fetch_files(backup)
        if file_sha256(path) != backup.sha256:
            raise BackupError(f"备份文件 {backup.file_name} 校验和不符")
        target = work / backup.backup_id
        extract_all(path, target)
        if backup.kind == "full":
            db.restore_full(target / db.dump_name)
        elif (target / "changes").exists():
            db.apply(target / "changes", _pks(backup))
        if media:
            _apply_media(target, full=backup.kind == "full")
        shutil.rmtree(target)
    db.reset_sequences(_pks(chain[-1]))


def _pks(backup: Backup) -> dict[str, str]:
    return {name: info["pk"] for name, info in backup.manifest["tables"].items()}


def _apply_media(extracted: Path, *, full: bool) -> None:
    root = Path(settings.MEDIA_ROOT)
    if full and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    for rel in json.loads((extracted / "media_deleted.json").read_text()):
        (root / rel).unlink(missing_ok=True)
    source = extracted / "media"
    if source.exists():
        shutil.copytree(source, root, dirs_exist_ok=True)


def compare(db: Any, backup: Backup) -> tuple[list[str], int]:
    """(differences, rows) between the database ``db`` and the backup's manifest."""
    expected = backup.manifest["tables"]
    states = db.scan(_pks(backup))
    problems = []
    rows = 0
    for name, info in expected.items():
        got = states[name]
        rows += got.rows
        if got.rows != info["rows"]:
            problems.append(f"{name}: 行数 {got.rows} ≠ {info['rows']}")
        elif got.checksum() != info["checksum"]:
            problems.append(f"{name}: 校验和不符")
    problems += decrypt_problems(db)
    return problems, rows


def decrypt_problems(db: Any) -> list[str]:
    """Encrypted personal data must still decrypt: a restore that loses phones failed."""
    from django.apps import apps

    problems = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            for token in db.sample_values(model._meta.db_table, field.column):
                try:
                    decrypt(token)
                except DecryptionError as exc:
                    problems.append(f"{model._meta.db_table}.{field.column}: 无法解密 ({exc})")
                    break
    return problems


def _catalog() -> dict[type, list[dict[str, Any]]]:
    return {m: list(m.objects.values()) for m in (Backup, RestoreLog, BackupVerification)}


def _put_back(catalog: dict[type, list[dict[str, Any]]]) -> None:
    """The catalog as it was before the restore (the restored one is older)."""
    with transaction.atomic():
        for model in (BackupVerification, RestoreLog, Backup):
            model.objects.all().delete()
        for model in (Backup, RestoreLog, BackupVerification):
            rows = catalog[model]
            if model is Backup:  # base points at rows of the same table: insert, then link
                model.objects.bulk_create([model(**{**r, "base_id": None}) for r in rows])
                for r in rows:
                    if r["base_id"]:
                        model.objects.filter(pk=r["id"]).update(base_id=r["base_id"])
            else:
                model.objects.bulk_create([model(**r) for r in rows])
        # The restored sequences are the old ones: move them past the ids just put back.
        sql = connection.ops.sequence_reset_sql(
            no_style(), [Backup, RestoreLog, BackupVerification]
        )
        with connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)


def _session_model() -> Any:
    from importlib import import_module

    return import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()


def _reset_sessions(kept: list[dict[str, Any]]) -> None:
    """Sessions from the backup would reopen sign-ins that have ended since: everyone signs
    in again, except the administrator whose request ran the restore."""
    model = _session_model()
    model.objects.all().delete()
    user_field = "user_id" if any(f.attname == "user_id" for f in model._meta.fields) else ""
    from django.contrib.auth import get_user_model

    for row in kept:
        if not user_field or get_user_model().objects.filter(pk=row[user_field]).exists():
            model.objects.create(**row)


@audited_refusals("backup_restore", target="backup")
def restore_backup(
    *, backup: Backup, actor: Any = None, confirmed: bool = False, keep_session: str = ""
) -> RestoreLog:
    """Restore the chain up to ``backup`` over the live data. ``actor`` None is the CLI;
    ``keep_session`` is the restoring request's session key (kept signed in)."""
    if actor is not None:
        require_perm(actor, "ops.manage_backups")
    if not confirmed:
        raise DomainError(CONFIRM_REQUIRED, code="ERR-006")
    started = timezone.now()
    chain = backup_chain(backup)
    check_keys(backup)
    for item in chain:
        fetch_files(item)
    safety = backup_create(kind="full", trigger=BackupTrigger.SAFETY, actor=actor)
    catalog = _catalog()
    kept = list(_session_model().objects.filter(session_key=keep_session).values())
    db = live_database()
    ok, message = False, ""
    try:
        with tempfile.TemporaryDirectory(dir=backup_dir() / "tmp") as work:
            connections.close_all()
            restore_chain_into(db, chain, Path(work), media=True)
        connections.close_all()
        _put_back(catalog)
        _reset_sessions(kept)
        problems, rows = compare(db, backup)
        ok = not problems
        message = "; ".join(problems) if problems else f"恢复完成，{rows} 行与清单一致"
    except Exception as exc:
        connections.close_all()
        _put_back(catalog)
        _reset_sessions(kept)
        message = f"恢复失败: {exc}"
    log = RestoreLog.objects.create(
        backup_id=backup.backup_id,
        chain=[b.backup_id for b in chain],
        safety_backup_id=safety.backup_id,
        started_at=started,
        finished_at=timezone.now(),
        ok=ok,
        message=message[:4000],
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "") or "",
    )
    audit_record(
        actor=actor,
        action="backup_restore",
        result=AuditResult.SUCCESS if ok else AuditResult.FAILED,
        object_type="backup",
        object_id=backup.pk,
        object_repr=backup.backup_id,
        params={"chain": log.chain, "safety_backup": safety.backup_id, "message": message[:500]},
    )
    return log
