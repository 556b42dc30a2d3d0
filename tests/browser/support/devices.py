"""More browsers for one test: each its own device, with its own cookies and storage."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, BrowserContext

from tests.support.browser import DEFAULT_TIMEOUT_MS, BrowserGuard, route_neutral_site

NewContext = Callable[[], BrowserContext]


def open_context(browser: Browser, guard: BrowserGuard) -> BrowserContext:
    """A context made like the ``browser_context`` fixture's, watched by the same guard."""
    context = browser.new_context(
        locale="en-GB",
        timezone_id="UTC",
        viewport={"width": 1280, "height": 800},
        reduced_motion="reduce",
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    guard.install(context)
    route_neutral_site(context)
    return context
