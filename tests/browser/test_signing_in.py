"""Signing in: a wrong password, and the wait after too many of them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import SignInPage
from tests.browser.pages.portal import path_is
from tests.browser.support.backstage import Backstage
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer

WRONG = "That name and password do not match. Check them and try again."
TOO_MANY = (
    "There have been too many attempts to sign in. For your safety, please wait 15 minutes"
    " before trying again."
)


def assert_not_signed_in(page: Page, base_url: str) -> None:
    assert "portal_session" not in {cookie["name"] for cookie in page.context.cookies()}
    page.goto(base_url + "/home")
    expect(page).to_have_url(path_is("/sign-in?reason=signin"))


@pytest.mark.browser
def test_wrong_password_says_so_and_stays_on_sign_in(
    page: Page, live_server: LiveServer, backstage: Backstage, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 401")
    manager = backstage.service_manager()
    sign_in = SignInPage.open(page, live_server.base_url)

    said = sign_in.tries_to_sign_in(manager.name, manager.password + " but wrong")

    assert said == WRONG
    expect(page).to_have_url(path_is("/sign-in"))
    # The wrong password is not left in the box, and the person can type again at once.
    expect(page.get_by_label("Password", exact=True)).to_be_empty()
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    assert_not_signed_in(page, live_server.base_url)


@pytest.mark.browser
def test_sixth_attempt_after_five_wrong_passwords_waits_even_when_right(
    page: Page, live_server: LiveServer, backstage: Backstage, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 401")
    browser_guard.expect("console", r"status of 429")
    manager = backstage.service_manager()
    sign_in = SignInPage.open(page, live_server.base_url)
    for attempt in range(5):
        assert sign_in.tries_to_sign_in(manager.name, f"wrong guess number {attempt}") == WRONG

    said = sign_in.tries_to_sign_in(manager.name, manager.password)

    assert said == TOO_MANY
    waiting = re.compile(r"^Sign in \(wait 1[45]:\d\d\)$")
    expect(sign_in.button).to_have_text(waiting)
    expect(sign_in.button).to_have_attribute("aria-disabled", "true")
    # aria-disabled keeps the button focusable, and assistive technology calls it unavailable.
    expect(sign_in.button).to_be_disabled()
    # The countdown moves on, one second at a time.
    shown = sign_in.button.inner_text()
    expect(sign_in.button).not_to_have_text(shown)
    expect(sign_in.button).to_have_text(waiting)
    # Sending the form again while waiting (Enter in the password box) sends nothing. (Proving
    # an absence takes a pause: half a second is many times what the page needs to start one.)
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.get_by_label("Password", exact=True).press("Enter")
    page.wait_for_timeout(500)
    assert [url for url in sent if "/api/sign-in" in url] == []
    expect(sign_in.alert).to_have_text(TOO_MANY)
    assert_not_signed_in(page, live_server.base_url)
