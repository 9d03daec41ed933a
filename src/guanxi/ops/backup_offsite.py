"""Off-site copies: a second directory or mount, or an S3-compatible bucket (``s3://``).

S3 needs boto3 (``pip install "guanxi[s3]"``) and the usual AWS_* variables (AWS_ENDPOINT_URL for
MinIO and other S3-compatible stores); directories need nothing.
"""

from __future__ import annotations

import os
from pathlib import Path


def _is_s3(target: str) -> bool:
    return target.startswith("s3://")


def _s3(target: str) -> tuple[object, str, str]:
    import boto3  # optional dependency, only for s3:// targets

    bucket, _, prefix = target[5:].partition("/")
    client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    return client, bucket, prefix.strip("/")


def upload(target: str, files: list[Path]) -> str:
    """Copy the files (archive last, so a listed archive always has its state and manifest)."""
    ordered = sorted(files, key=lambda p: p.suffix == ".gxb")
    if _is_s3(target):
        client, bucket, prefix = _s3(target)
        for path in ordered:
            key = f"{prefix}/{path.name}" if prefix else path.name
            client.upload_file(str(path), bucket, key)  # type: ignore[attr-defined]
        return target
    from guanxi.ops.backup_service import copy_file

    directory = Path(target)
    directory.mkdir(parents=True, exist_ok=True)
    for path in ordered:
        copy_file(path, directory / path.name)
    return str(directory)


def download(target: str, name: str, dest: Path) -> None:
    if _is_s3(target):
        client, bucket, prefix = _s3(target)
        key = f"{prefix}/{name}" if prefix else name
        client.download_file(bucket, key, str(dest))  # type: ignore[attr-defined]
        return
    from guanxi.ops.backup_service import copy_file

    source = Path(target) / name
    if source.exists():
        copy_file(source, dest)


def delete(target: str, backup_id: str) -> None:
    names = [f"{backup_id}{suffix}" for suffix in (".gxb", ".state", ".json")]
    if _is_s3(target):
        client, bucket, prefix = _s3(target)
        for name in names:
            key = f"{prefix}/{name}" if prefix else name
            client.delete_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        return
    for name in names:
        (Path(target) / name).unlink(missing_ok=True)
