"""Streaming archives: a tar, compressed with zstd, encrypted with the backup key.

Writing goes to ``<name>.<pid>.partial`` and is fsynced and renamed only when whole, so a
process killed midway leaves a partial file the next run removes, never a file that looks
complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from guanxi.ops.backup_crypto import DecryptingReader, EncryptingWriter, backup_key


class HashingFile:
    """Counts and hashes the bytes written through it (the file's checksum in the catalog)."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.sha = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.bytes += len(data)
        return self.sink.write(data)


class ArchiveWriter:
    """Add files and JSON documents; ``finish()`` seals and publishes the archive."""

    def __init__(self, path: Path, *, level: int = 3) -> None:
        self.path = path
        self.partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        # Closed in finish() or abort(): the writer outlives any one block.
        self.raw = open(self.partial, "wb")  # noqa: SIM115
        self.hashing = HashingFile(self.raw)
        self.crypt = EncryptingWriter(self.hashing, backup_key())  # type: ignore[arg-type]
        self.zstd = zstandard.ZstdCompressor(level=level, threads=-1).stream_writer(
            self.crypt, closefd=False
        )
        self.tar = tarfile.open(fileobj=self.zstd, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def add_file(self, source: Path, name: str) -> None:
        self.tar.add(str(source), arcname=name, recursive=False)

    def add_bytes(self, data: bytes, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def add_json(self, value: Any, name: str) -> None:
        self.add_bytes(json.dumps(value, ensure_ascii=False).encode(), name)

    def finish(self) -> tuple[int, str]:
        """Close every layer, fsync, rename into place; returns (bytes, sha256)."""
        self.tar.close()
        self.zstd.flush(zstandard.FLUSH_FRAME)
        self.zstd.close()
        self.crypt.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.partial, self.path)
        fsync_dir(self.path.parent)
        return self.hashing.bytes, self.hashing.sha.hexdigest()

    def abort(self) -> None:
        self.raw.close()
        self.partial.unlink(missing_ok=True)


def fsync_dir(directory: Path) -> None:
    """A rename is durable only once its directory entry is."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    """Read an archive sequentially (members in the order they were written)."""
    with open(path, "rb") as raw:
        reader = DecryptingReader(raw, backup_key())
        stream = zstandard.ZstdDecompressor().stream_reader(reader, read_across_frames=True)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            yield tar


def extract_all(path: Path, target: Path) -> None:
    """Unpack an archive into ``target`` (member names are checked by the tar data filter)."""
    target.mkdir(parents=True, exist_ok=True)
    with open_archive(path) as tar:
        tar.extractall(target, filter="data")


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def remove_stale_partials(directory: Path) -> int:
    """Delete ``*.partial`` files whose writing process is gone (killed midway)."""
    removed = 0
    for partial in directory.glob("*.partial"):
        pid = partial.suffixes[-2].lstrip(".") if len(partial.suffixes) >= 2 else ""
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        partial.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
