"""Secrets for the embedded default: generated once into the data dir, never committed.

Imported by settings, so it must not import Django.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path


class MissingSecretError(RuntimeError):
    """Production must be given its secrets explicitly."""


def _generate(kind: str) -> str:
    if kind == "aes":
        return "k1:" + base64.b64encode(os.urandom(32)).decode()
    if kind == "hmac":
        return base64.b64encode(os.urandom(32)).decode()
    return secrets.token_urlsafe(50)


def load_or_create_secret(
    *, env_value: str, name: str, data_dir: Path, required: bool, kind: str
) -> str:
    """Return the configured secret, or one generated into ``data_dir/keys`` (with a warning)."""
    if env_value:
        return env_value
    if required:
        raise MissingSecretError(f"GUANXI_{name.upper()} must be set when GUANXI_ENV=production")
    key_dir = data_dir / "keys"
    path = key_dir / name
    if path.exists():
        return path.read_text().strip()
    key_dir.mkdir(parents=True, exist_ok=True)
    value = _generate(kind)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    print(f"[guanxi] generated {name} in {key_dir} — back it up with the data", file=sys.stderr)
    return value
