"""Browser tests: Playwright for Python driving Debian's headless Chromium against a live daphne.

Playwright's own browser download cannot work here, so the tests launch /usr/bin/chromium (or
CHROMIUM_PATH). Screenshots land in test-artifacts/ (ignored by git). Without Chromium the tests
skip locally and fail in CI (CI=true or EXAMPULSE_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.live import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
MUST_RUN = os.environ.get("CI") == "true" or os.environ.get("EXAMPULSE_REQUIRE_SERVICES") == "1"
# Flags from this workplace's notes: no sandbox as root, and no background traffic to a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if MUST_RUN:
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def server(tmp_path, seed_cache):
    """A fresh, seeded ExamPulse under daphne with its own SQLite database file."""
    with live_server(tmp_path, seeds=seed_cache) as running:
        yield running


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
