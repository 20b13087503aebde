"""A real headless Chromium (Debian's package, /usr/bin/chromium) driven by Playwright, for
the pages the platform writes. Without Chromium a test is skipped and says why; in CI
(``CI`` set, where ``.ci/run`` installs it) it fails instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LAKEHOUSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# This machine's network is closed: without these Chromium keeps calling Google's hosts.
QUIET = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class OpenedPage:
    page: object  # playwright.sync_api.Page
    console: list[str] = field(default_factory=list)  # errors and warnings, page errors


@contextmanager
def open_in_chromium(path: Path, width: int = 1400, height: int = 1000) -> Iterator[OpenedPage]:
    """``path`` loaded in headless Chromium; every console error or warning and uncaught
    exception is collected in ``console``."""
    if not Path(CHROMIUM).is_file():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            opened = OpenedPage(page)
            page.on("console", lambda m: opened.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)  # fmt: skip
            page.on("pageerror", lambda error: opened.console.append(f"page error: {error}"))
            page.goto(path.resolve().as_uri())
            yield opened
        finally:
            browser.close()
