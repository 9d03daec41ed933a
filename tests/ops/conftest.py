"""Backups in tests write under the test's own temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def backup_dirs(settings: Any, tmp_path: Path) -> dict[str, Path]:
    dirs = {
        "local": tmp_path / "backups",
        "offsite": tmp_path / "offsite",
        "media": tmp_path / "media",
    }
    settings.GUANXI_BACKUP_DIR = dirs["local"]
    settings.GUANXI_BACKUP_OFFSITE_DIR = str(dirs["offsite"])
    settings.MEDIA_ROOT = dirs["media"]
    dirs["media"].mkdir()
    return dirs
