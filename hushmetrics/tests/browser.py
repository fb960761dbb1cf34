"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

A pytest plugin (conftest.py loads it): the `page` fixture, and `BROWSER_TEST` for a browser
test module's `pytestmark`.

Runs wherever /usr/bin/chromium and the playwright package exist, and always in CI
(`.ci/run` installs both), where a missing browser is a failure, not a skip. Screenshots go
to artifacts/screenshots/ (git-ignored).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"

playwright_missing = False
if TYPE_CHECKING:
    from playwright.sync_api import expect, sync_playwright
else:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover - CI installs it
        expect = sync_playwright = None
        playwright_missing = True

browser_missing = playwright_missing or not shutil.which(CHROMIUM)
# For a browser test module's `pytestmark`: a live server needs committed data.
BROWSER_TEST = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        browser_missing and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium and playwright (`.ci/run` installs them)",
    ),
]


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, so Django's async guard is lifted for this test only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1680, "height": 1000})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get their own context-local connection;
        # hand it back, or it would hold the test database open at teardown.
        connections.close_all()
