"""The off-site copy in an S3-compatible bucket (moto's in-process S3 stands in for one)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from guanxi.ops.backup_models import Backup
from guanxi.ops.backup_service import backup_create, fetch_files, purge_expired

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "guanxi-backups"


@pytest.fixture
def bucket(settings: Any, backup_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        settings.GUANXI_BACKUP_OFFSITE_DIR = f"s3://{BUCKET}/site-1"
        yield client


def keys(client: Any) -> set[str]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"] for item in listed}


def test_backups_are_copied_to_the_bucket_fetched_back_and_expired(
    org: dict[str, Any], bucket: Any, backup_dirs: dict[str, Path]
) -> None:
    old = backup_create(kind="full")
    archive = f"site-1/{old.file_name}"
    assert {archive, f"site-1/{old.backup_id}.json", f"site-1/{old.backup_id}.state"} <= keys(
        bucket
    )
    local = backup_dirs["local"] / old.file_name
    original = local.read_bytes()

    backup_create(kind="full")
    Backup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    purge_expired()
    assert not local.exists() and archive in keys(bucket)  # local copy gone after 30 days
    assert fetch_files(Backup.objects.get(pk=old.pk)).read_bytes() == original

    Backup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))
    purge_expired()
    assert not any(key.startswith(f"site-1/{old.backup_id}") for key in keys(bucket))
    assert not Backup.objects.filter(pk=old.pk).exists()
