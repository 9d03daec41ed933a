"""``guanxi serve`` on a fresh data directory serves the hashed static files it collected."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_first_start_serves_collected_static_files(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "GUANXI_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUANXI_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "guanxi.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        manifest = tmp_path / "static" / "staticfiles.json"
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            if manifest.exists():
                hashed = json.loads(manifest.read_text())["paths"][
                    "bootstrap/css/bootstrap.min.css"
                ]
                try:
                    status = _get(f"http://127.0.0.1:{port}/static/{hashed}")
                    break
                except OSError:
                    pass  # not listening yet
            time.sleep(0.5)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
