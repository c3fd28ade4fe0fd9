"""Fixtures for the browser tests: one `streamlit run app.py` and one headless Chromium per session.

Every test collected under tests/browser gets the `browser` marker (``pytest -m "not browser"``
leaves them out). Without Chromium or Playwright the tests are skipped, except with CI=true where
that is a failure (see harness.require_chromium).

EMVIZ_BROWSER_APP=<path> runs another entry script instead of app.py (relative to the repository
root, or absolute); handy to try the harness against a stand-in app.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from .harness import (
    launch_browser,
    new_page,
    require_chromium,
    screenshot,
    streamlit_server,
    warm_up,
)

BROWSER_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_TESTS in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"_report_{report.when}", report)  # lets `page` screenshot failures
    return report


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="session")
def playwright_session(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = launch_browser(playwright_session)
    yield browser
    with contextlib.suppress(Exception):
        browser.close()


@pytest.fixture(scope="session")
def server(browser) -> str:
    """Base URL of the session's Streamlit server (http://127.0.0.1:<port>), warmed up."""
    with streamlit_server(os.environ.get("EMVIZ_BROWSER_APP", "app.py")) as base_url:
        warm_up(browser, base_url)  # see harness.warm_up: deep links on a fresh server
        yield base_url


@pytest.fixture
def page(browser, request):
    """A 1400x1000 page in a fresh context (its own Streamlit session); failures are screenshot."""
    page = new_page(browser)
    yield page
    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        with contextlib.suppress(Exception):
            screenshot(page, f"FAILED-{request.node.name}")
    page.context.close()
