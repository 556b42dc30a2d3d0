"""What a tab keeps in sessionStorage, and proof that the portal emptied it."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

PORTAL_KEY = "portal.sk"
MARKER = "test.marker"
# htmx writes the path of the page it runs on under this key at every page load (one value,
# overwritten: not a trail). The pages reached after signing out write it again themselves.
HTMX_PATH = "htmx-current-path-for-history"


def session_storage(page: Page) -> dict[str, str]:
    stored: dict[str, str] = page.evaluate(
        "() => Object.fromEntries(Object.keys(sessionStorage)"
        ".map((key) => [key, sessionStorage.getItem(key)]))"
    )
    return stored


def mark_session_storage(page: Page) -> None:
    """Put a key of our own next to the portal's.

    The sign-in page drops the portal's key on load whatever happened before, so an empty store
    there proves little; the marker survives that and goes only if the portal emptied the whole
    store itself, as signing out, expiry and quick exit must.
    """
    page.evaluate(f"() => sessionStorage.setItem({MARKER!r}, 'x')")
    assert {PORTAL_KEY, MARKER} <= set(session_storage(page))


def assert_emptied_before_this_page(page: Page) -> None:
    """Nothing from before is left: at most htmx's note of this very page."""
    url = urlsplit(page.url)
    this_page = url.path + (f"?{url.query}" if url.query else "")
    left = session_storage(page)
    if left.get(HTMX_PATH) == this_page:
        del left[HTMX_PATH]
    assert left == {}, f"sessionStorage still holds {left}"
