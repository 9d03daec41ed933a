"""Backup files: zstd-compressed, then AES-256-GCM in authenticated chunks.

Layout: ``GXB1`` | key fingerprint (8 bytes) | nonce prefix (8 bytes), then chunks of
``length (4 bytes, top bit = last chunk) | ciphertext+tag``. Each chunk's nonce is the prefix
plus its index, and the header, index and last flag are authenticated, so a reordered,
truncated or tampered file fails to decrypt instead of restoring half a database.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

MAGIC = b"GXB1"
CHUNK = 1 << 20
LAST = 0x80000000


class BackupKeyError(ValueError):
    """The backup key is missing, malformed, or not the one a file was written with."""


def backup_key() -> bytes:
    """The 256-bit backup key (GUANXI_BACKUP_KEY, else generated into the data dir keys)."""
    try:
        raw = base64.b64decode(settings.GUANXI_BACKUP_KEY)
    except ValueError as exc:
        raise BackupKeyError("GUANXI_BACKUP_KEY is not base64") from exc
    if len(raw) != 32:
        raise BackupKeyError("GUANXI_BACKUP_KEY must be 32 bytes (base64)")
    return raw


def fingerprint(key: bytes) -> bytes:
    """Names a key without revealing it (manifests, file headers)."""
    return hashlib.sha256(b"guanxi-backup-key\x00" + key).digest()[:8]


class EncryptingWriter:
    """A write-only file object that encrypts into ``sink`` chunk by chunk."""

    def __init__(self, sink: BinaryIO, key: bytes) -> None:
        self.sink = sink
        self.aes = AESGCM(key)
        self.prefix = os.urandom(8)
        self.header = MAGIC + fingerprint(key) + self.prefix
        self.buffer = bytearray()
        self.index = 0
        self.closed = False
        sink.write(self.header)

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) > CHUNK:
            self._emit(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        flag = LAST if last else 0
        nonce = self.prefix + struct.pack(">I", self.index)
        aad = self.header + struct.pack(">II", self.index, flag)
        sealed = self.aes.encrypt(nonce, plain, aad)
        self.sink.write(struct.pack(">I", len(sealed) | flag) + sealed)
        self.index += 1

    def flush(self) -> None:
        """Chunks are written whole; the tail waits for close()."""

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self.buffer), last=True)
            self.buffer.clear()
            self.closed = True


class DecryptingReader:
    """A read-only file object over an encrypted backup; fails on any tampering."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        self.source = source
        self.header = source.read(20)
        if len(self.header) != 20 or self.header[:4] != MAGIC:
            raise BackupKeyError("not a Guanxi backup file")
        if self.header[4:12] != fingerprint(key):
            raise BackupKeyError("the backup was written with another backup key")
        self.aes = AESGCM(key)
        self.prefix = self.header[12:20]
        self.index = 0
        self.pending = b""
        self.done = False

    def _next_chunk(self) -> None:
        head = self.source.read(4)
        if len(head) != 4:
            raise BackupKeyError("backup file is truncated")
        (word,) = struct.unpack(">I", head)
        flag, size = word & LAST, word & ~LAST
        sealed = self.source.read(size)
        nonce = self.prefix + struct.pack(">I", self.index)
        aad = self.header + struct.pack(">II", self.index, flag)
        try:
            self.pending = self.aes.decrypt(nonce, sealed, aad)
        except Exception as exc:  # InvalidTag
            raise BackupKeyError("backup file failed authentication") from exc
        self.index += 1
        self.done = bool(flag)

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if not self.pending:
                if self.done:
                    break
                self._next_chunk()
                continue
            take = len(self.pending) if size < 0 else min(size - len(out), len(self.pending))
            out += self.pending[:take]
            self.pending = self.pending[take:]
        return bytes(out)

    def readable(self) -> bool:
        return True
