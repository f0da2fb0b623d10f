"""Headless Chromium for the browser tests: one browser per session, a fresh context (zh-CN) per test.

Playwright's own browser download is not available on the target networks, so Debian's ``/usr/bin/chromium`` is
launched instead. Without it the tests are skipped, unless ``JIANGUAN_REQUIRE_SERVICES=True`` (CI), which fails them.

The pages are served by pytest-django's ``live_server`` (a real HTTP server in a thread of this process, on the same
test database: a file on SQLite, or PostgreSQL when ``JIANGUAN_DATABASE_URL`` is set).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("JIANGUAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots (the dashboard, and any page a failing test was on) go here; they are never committed.
SHOTS_DIR = Path(os.environ.get("JIANGUAN_BROWSER_SHOTS", str(Path(tempfile.gettempdir()) / "browser-shots")))
DEFAULT_TIMEOUT_MS = 10_000

# Catches violations even when Chromium would not log them (init scripts are not subject to the page's CSP).
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("JIANGUAN_REQUIRE_SERVICES") == "True":
        pytest.fail(f"browser tests required but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        _unavailable("the playwright package is not installed")
    # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django's async-safety check
    # refuse every ORM call the tests make (fixtures, assertions, the database flush between tests). There is no
    # real concurrency here: the ORM is only ever used synchronously. Allow it while Playwright is up.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            _unavailable(f"Chromium does not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class BrowserLog:
    """What the page complained about: console errors (CSP violations among them) and uncaught exceptions."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Remember whether the test body failed, so the ``page`` fixture can keep a screenshot of it."""
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def _fresh_login_counters() -> None:
    """Sign-in throttles count failures per address in the cache; every browser test signs in from 127.0.0.1, after
    a suite that has failed logins from there too, so each test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Any, live_server: Any, browser_log: BrowserLog) -> Iterator[Any]:
    """A fresh browser context per test (no cookies carried over), Chinese locale, relative URLs on the live server."""
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and browser_log.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: browser_log.page_errors.append(str(exc)))
    yield page
    if request.node.stash.get(_FAILED, False):
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(SHOTS_DIR / f"failed-{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def sign_in(page: Any) -> Callable[[str, str], None]:
    """Fill in and submit the real sign-in form, finding the fields by their Chinese labels as an official does."""

    def submit(username: str, password: str) -> None:
        if urlsplit(page.url).path != "/accounts/login/":
            page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码", exact=True).fill(password)
        with page.expect_navigation():  # the new page (dashboard, next step, or the form with its error)
            page.get_by_role("button", name="登录", exact=True).click()

    return submit
