"""Playwright (sync API) in Debian's Chromium against pytest-django's live_server.

Never `playwright install`: the browser is /usr/bin/chromium from the Debian package. When it
is missing the browser tests are skipped with a loud message, except under CI=true, where
they fail.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls
# from there ("You cannot call this from an async context").
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
HERE = Path(__file__).resolve().parent
MISSING = (
    f"\n{'!' * 78}\n!! 浏览器测试已跳过 SKIPPED: Debian Chromium not found at {CHROMIUM}.\n"
    "!! Install it as root: apt-get install chromium (never `playwright install`).\n"
    f"!! Under CI=true these tests FAIL instead.\n{'!' * 78}"
)


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _chromium_present() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests, and run them last: when `make test` runs them in the same
    process as the rest (one test database), Playwright's event loop starts only after every
    other test has run."""
    browser_items = []
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not _chromium_present() and not _is_ci():
                item.add_marker(pytest.mark.skip(reason=MISSING))
            browser_items.append(item)
    if browser_items:
        chosen = set(browser_items)
        items[:] = [item for item in items if item not in chosen] + browser_items


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _chromium_present():
        terminalreporter.write_line(MISSING, red=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not _chromium_present():
        pytest.fail(MISSING + "\n!! CI=true: failing.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_world(live_server: Any, transactional_world: Any) -> Any:
    """The persona World in the live server's database (conftest.transactional_world)."""
    return transactional_world


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
