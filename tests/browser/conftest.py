"""Shared browser fixtures: Debian's Chromium through Playwright, screenshots, and a watch
for JS errors, server errors and missing static files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

# Playwright's sync API runs an event loop in the test thread; Django's ORM would otherwise
# refuse to run from it (SynchronousOnlyOperation) in fixtures and teardown.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(
    os.environ.get(
        "GUANXI_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots"
    )
)


@pytest.fixture
def page() -> Iterator[Page]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing on CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1366, "height": 900}, timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        pg = context.new_page()
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def watch_problems(page: Page) -> list[str]:
    """Collect uncaught JS errors, console errors, server errors and missing static files.

    Chromium logs every 4xx document as a console error; the 422 of an invalid form is
    expected, so bad responses are judged from the responses themselves instead.
    Requests aborted by a navigation are not problems.
    """
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console: {msg.text}")

    def on_response(response: Any) -> None:
        if response.status >= 500 or (response.status == 404 and "/static/" in response.url):
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", on_console)
    page.on("response", on_response)

    def on_failed(request: Any) -> None:
        # A request the browser cancelled because the page moved on (the bell loading as a
        # test clicks away) is not a failure; a refused or broken request is.
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"failed: {request.url} {request.failure}")

    page.on("requestfailed", on_failed)
    return problems


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
