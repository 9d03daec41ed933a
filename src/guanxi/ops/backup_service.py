"""Taking backups: full (database snapshot + media) and incremental (changed rows and files,
deletes included), each an encrypted archive with a manifest, kept locally and off-site.

An incremental reads the rows named by the change log since its base (``backup_changelog``);
it becomes a full when that log cannot be trusted to be complete since the base: another
schema, a restore in between, missing triggers, or a base taken before the log existed.

A backup becomes visible (a ``Backup`` row) only in the final step, after its files are
fsynced and renamed into place; a run killed before that leaves nothing listed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from guanxi.audit.services import audit_record, audited_refusals
from guanxi.core.permissions import require_perm
from guanxi.ops import backup_changelog, backup_offsite
from guanxi.ops.backup_archive import ArchiveWriter, fsync_dir, open_archive, remove_stale_partials
from guanxi.ops.backup_crypto import backup_key, fingerprint
from guanxi.ops.backup_db import live_database
from guanxi.ops.backup_models import Backup, BackupKind, BackupTrigger, RestoreLog
from guanxi.ops.backup_state import TableState, dump_states, load_states, summary
from guanxi.ops.parameters import system_parameter

# The catalog describes backups; it is carried across a restore, never taken from one.
CATALOG_TABLES = {"ops_backup", "ops_restorelog", "ops_backupverification"}


class BackupError(RuntimeError):
    """A backup or restore could not be completed; the message says why."""


def offsite_target() -> str:
    """The off-site directory or ``s3://`` bucket (系统参数, else GUANXI_BACKUP_OFFSITE_DIR)."""
    return str(system_parameter("backup_offsite_target") or "")


def backup_dir() -> Path:
    path = Path(settings.GUANXI_BACKUP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def table_specs() -> dict[str, str]:
    """Every table Django manages (m2m tables included) -> its primary key column."""
    existing = set(connection.introspection.table_names())
    specs = {"django_migrations": "id"}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table in existing:
            specs[meta.db_table] = meta.pk.column
    skip = CATALOG_TABLES | session_tables() | {backup_changelog.LOG}
    return {t: pk for t, pk in sorted(specs.items()) if t not in skip}


INTEGER_FIELDS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}


def integer_keyed_tables() -> set[str]:
    """Tables whose primary key is an integer: their row digests are kept in key order that
    Python can reproduce, so an incremental patches them instead of re-scanning."""
    out = {"django_migrations"}
    for model in apps.get_models(include_auto_created=True):
        field = model._meta.pk
        while field.remote_field is not None:  # a one-to-one key: the type it points at
            field = field.target_field
        if field.get_internal_type() in INTEGER_FIELDS:
            out.add(model._meta.db_table)
    return out


def session_tables() -> set[str]:
    """Sign-in sessions are not restored (a restore signs everyone out), so not backed up."""
    from importlib import import_module

    model = import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()
    return {model._meta.db_table, "django_session"}


def migration_state() -> str:
    """Fingerprint of the applied migrations: an incremental needs its base's schema."""
    from django.db.migrations.recorder import MigrationRecorder

    applied = sorted(MigrationRecorder(connection).applied_migrations())
    return hashlib.sha256(json.dumps(applied).encode()).hexdigest()[:16]


def data_key_fingerprints() -> list[dict[str, str]]:
    """Which data encryption keys the backup's encrypted fields need (ids, never keys)."""
    out = []
    for part in settings.ENCRYPTION_KEYS.split(","):
        key_id, _, b64 = part.strip().partition(":")
        if key_id:
            digest = hashlib.sha256(b"guanxi-data-key\x00" + base64.b64decode(b64)).hexdigest()
            out.append({"id": key_id, "fingerprint": digest[:16]})
    # Duplicate checks and exact lookups go through the blind index: it must match too.
    digest = hashlib.sha256(b"guanxi-data-key\x00" + settings.BLIND_INDEX_KEY.encode())
    out.append({"id": "blind_index", "fingerprint": digest.hexdigest()[:16]})
    return out


def media_state() -> dict[str, list[int]]:
    root = Path(settings.MEDIA_ROOT)
    state: dict[str, list[int]] = {}
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file():
                st = path.stat()
                state[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns]
    return state


def load_previous_state(previous: Backup) -> tuple[dict[str, TableState], dict[str, list[int]]]:
    members: dict[str, bytes] = {}
    with open_archive(backup_dir() / f"{previous.backup_id}.state") as tar:
        for info in tar:
            members[info.name] = tar.extractfile(info).read()  # type: ignore[union-attr]
    return load_states(members), json.loads(members["media.json"])


def _new_id(kind: str, now: datetime) -> str:
    local = timezone.localtime(now)
    return f"{local:%Y%m%d-%H%M%S}-{kind[0]}{secrets.token_hex(2)}"


def _choose_kind(
    kind: str, previous: Backup | None, vendor: str, schema: str, tables: dict[str, str]
) -> str:
    if kind == BackupKind.FULL or previous is None:
        return BackupKind.FULL
    if previous.vendor != vendor or previous.manifest.get("migrations") != schema:
        return BackupKind.FULL  # schema or database changed since: rows would not fit
    if "changelog" not in previous.manifest:
        return BackupKind.FULL  # taken before the change log: nothing to start from
    if RestoreLog.objects.filter(finished_at__gte=previous.created_at).exists():
        return BackupKind.FULL  # a restore replaced the data without logging it
    if backup_changelog.went_back(connection, previous.manifest["changelog"]):
        return BackupKind.FULL  # an older database file was put in place
    if backup_changelog.missing(connection, tables):
        return BackupKind.FULL  # some writes since may not have been logged
    return BackupKind.INCREMENTAL


@audited_refusals("backup_create")
def backup_create(
    *, kind: str = BackupKind.INCREMENTAL, trigger: str = BackupTrigger.MANUAL, actor: Any = None
) -> Backup:
    """Take a backup. ``actor`` None is the system (CLI, schedule); a user needs the right.

    An incremental without a usable base (none yet, or the schema changed) becomes a full.
    """
    if actor is not None:
        require_perm(actor, "ops.manage_backups")
    started = time.monotonic()
    directory = backup_dir()
    remove_stale_partials(directory)
    db = live_database()
    schema = migration_state()
    previous = Backup.objects.filter(vendor=db.vendor).order_by("-created_at", "-id").first()
    tables = table_specs()
    kind = _choose_kind(kind, previous, db.vendor, schema, tables)
    now = timezone.now()
    backup_id = _new_id(kind, now)
    tmp_root = directory / "tmp"
    tmp_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp_name:
        tmp = Path(tmp_name)
        archive = ArchiveWriter(directory / f"{backup_id}.gxb")
        try:
            manifest, states, media = _write_payload(archive, db, kind, previous, tables, tmp)
            manifest.update(
                id=backup_id,
                type=kind,
                created_at=now.isoformat(),
                base_id=previous.backup_id if kind == BackupKind.INCREMENTAL else None,
                chain=[*(previous.manifest["chain"] if kind == "incremental" else []), backup_id],
                vendor=db.vendor,
                migrations=schema,
                version=settings.VERSION,
                backup_key=fingerprint(backup_key()).hex(),
                data_keys=data_key_fingerprints(),
                tables=summary(states),
            )
            archive.add_json(manifest, "manifest.json")
            size, sha = archive.finish()
        except BaseException:
            archive.abort()
            raise
        _write_state(directory / f"{backup_id}.state", states, media)
    _write_sidecar(directory / f"{backup_id}.json", manifest)
    backup = Backup.objects.create(
        backup_id=backup_id,
        kind=kind,
        trigger=trigger,
        base=previous if kind == BackupKind.INCREMENTAL else None,
        created_at=now,
        bytes=size,
        seconds=round(time.monotonic() - started, 3),
        vendor=db.vendor,
        file_name=f"{backup_id}.gxb",
        sha256=sha,
        manifest=manifest,
        created_by=actor,
    )
    _trim_change_log(db.vendor)
    _after_backup(backup, actor)
    return backup


def _trim_change_log(vendor: str) -> None:
    """The next incremental starts from the latest backup: older log entries can go."""
    latest = Backup.objects.filter(vendor=vendor).order_by("-created_at", "-id").first()
    if latest is not None and "changelog" in latest.manifest:
        backup_changelog.trim(connection, latest.manifest["changelog"])


def _write_payload(
    archive: ArchiveWriter, db: Any, kind: str, previous: Backup | None, tables: dict, tmp: Path
) -> tuple[dict[str, Any], dict[str, TableState], dict[str, list[int]]]:
    media = media_state()
    root = Path(settings.MEDIA_ROOT)
    if kind == BackupKind.FULL:
        dump = tmp / db.dump_name
        states, mark = db.full_dump(dump, tables)
        archive.add_file(dump, db.dump_name)
        dump.unlink()
        changed_media, deleted_media, changes = list(media), [], {}
    else:
        assert previous is not None
        old_states, old_media = load_previous_state(previous)
        changes_dir = tmp / "changes"
        changes_dir.mkdir()
        states, mark = db.incremental(
            tables, old_states, previous.manifest["changelog"], integer_keyed_tables(), changes_dir
        )
        changes = _count_changes(changes_dir)
        for path in sorted(changes_dir.iterdir()):
            archive.add_file(path, f"changes/{path.name}")
        changed_media = [p for p, st in media.items() if old_media.get(p) != st]
        deleted_media = [p for p in old_media if p not in media]
    for rel in changed_media:
        archive.add_file(root / rel, f"media/{rel}")
    archive.add_json(deleted_media, "media_deleted.json")
    manifest = {
        "changelog": mark,
        "changes": changes,
        "media": {
            "files": len(media),
            "written": len(changed_media),
            "deleted": len(deleted_media),
        },
    }
    return manifest, states, media


def _count_changes(changes: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for path in changes.iterdir():
        table, _, rest = path.name.partition(".")
        entry = counts.setdefault(table, {"rows": 0, "deleted": 0})
        if rest == "jsonl":
            with open(path, "rb") as fh:
                entry["rows"] = sum(1 for _ in fh) - 1
        else:
            entry["deleted"] = len(json.loads(path.read_text()))
    return counts


def _write_state(path: Path, states: dict[str, TableState], media: dict[str, list[int]]) -> None:
    writer = ArchiveWriter(path, level=1)
    try:
        for name, data in dump_states(states).items():
            writer.add_bytes(data, name)
        writer.add_json(media, "media.json")
        writer.finish()
    except BaseException:
        writer.abort()
        raise


def _write_sidecar(path: Path, manifest: dict[str, Any]) -> None:
    """A plain copy of the manifest beside the archive, to rebuild a lost catalog from."""
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    with open(partial, "w") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)
    fsync_dir(path.parent)


def backup_files(backup_id: str) -> list[Path]:
    directory = backup_dir()
    return [directory / f"{backup_id}{suffix}" for suffix in (".gxb", ".state", ".json")]


def _after_backup(backup: Backup, actor: Any) -> None:
    """Off-site copy, retention, audit: a failed copy is recorded, the backup stays."""
    target = offsite_target()
    if target:
        try:
            backup.offsite = backup_offsite.upload(target, backup_files(backup.backup_id))
            Backup.objects.filter(pk=backup.pk).update(offsite=backup.offsite)
        except Exception as exc:
            backup.offsite = f"失败: {exc}"[:300]
            Backup.objects.filter(pk=backup.pk).update(offsite=backup.offsite)
    purge_expired()
    audit_record(
        actor=actor,
        action="backup_create",
        obj=backup,
        object_repr=backup.backup_id,
        params={"kind": backup.kind, "bytes": backup.bytes, "trigger": backup.trigger},
    )


def purge_expired(now: datetime | None = None) -> int:
    """Local copies older than the local retention (系统参数 backup_keep_days) go; catalog
    rows stay while an off-site copy (backup_offsite_keep_days) still exists. Files of the
    newest full backup and its incrementals are always kept locally (the next incremental
    needs them)."""
    now = now or timezone.now()
    local_cut = now - timedelta(days=system_parameter("backup_keep_days"))
    remote_cut = now - timedelta(days=system_parameter("backup_offsite_keep_days"))
    target = offsite_target()
    latest = Backup.objects.order_by("-created_at", "-id").first()
    keep = set(latest.manifest.get("chain", [])) if latest else set()
    removed = 0
    for backup in Backup.objects.filter(created_at__lt=local_cut).exclude(backup_id__in=keep):
        for path in backup_files(backup.backup_id):
            if path.exists():
                path.unlink()
                removed += 1
        if target and backup.created_at < remote_cut:
            backup_offsite.delete(target, backup.backup_id)
        if not target or backup.created_at < remote_cut:
            backup.delete()
    return removed


def fetch_files(backup: Backup) -> Path:
    """Make sure the backup's archive is local (from off-site when purged locally)."""
    path = backup_dir() / backup.file_name
    target = offsite_target()
    if not path.exists() and target:
        backup_offsite.download(target, backup.file_name, path)
    if not path.exists():
        raise BackupError(f"备份文件 {backup.file_name} 不存在")
    return path


def copy_file(source: Path, dest: Path) -> None:
    partial = dest.with_name(dest.name + f".{os.getpid()}.partial")
    with open(source, "rb") as src, open(partial, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, dest)


def catalog_sync() -> int:
    """Re-list backups whose files exist but whose catalog rows are gone (a wiped or lost
    database): the sidecar manifests locally and off-site are enough to restore from."""
    from guanxi.ops.backup_archive import file_sha256

    known = set(Backup.objects.values_list("backup_id", flat=True))
    added = 0
    manifests = []
    for sidecar in sorted(backup_dir().glob("*.json")):
        manifests.append(json.loads(sidecar.read_text()))
    for manifest in sorted(manifests, key=lambda m: m["created_at"]):
        if manifest["id"] in known:
            continue
        archive = backup_dir() / f"{manifest['id']}.gxb"
        if not archive.exists():
            continue
        base = Backup.objects.filter(backup_id=manifest.get("base_id") or "").first()
        Backup.objects.create(
            backup_id=manifest["id"],
            kind=manifest["type"],
            trigger=BackupTrigger.MANUAL,
            base=base,
            created_at=datetime.fromisoformat(manifest["created_at"]),
            bytes=archive.stat().st_size,
            vendor=manifest["vendor"],
            file_name=archive.name,
            sha256=file_sha256(archive),
            manifest=manifest,
        )
        known.add(manifest["id"])
        added += 1
    return added
