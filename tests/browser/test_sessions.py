"""Sessions end: by signing out, and after a while without activity (with a warning first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import SignInPage
from tests.browser.pages.portal import path_is
from tests.browser.support.backstage import Backstage
from tests.browser.support.storage import assert_emptied_before_this_page, mark_session_storage
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer, LiveServerFactory

SIGNED_OUT = "You have signed out. You can close this page, or sign in again."
EXPIRED = (
    "You were signed out because the portal had not been used for a while. This keeps your"
    " messages private. You can sign in again whenever you are ready."
)


@pytest.mark.browser
def test_signing_out_ends_the_session_and_empties_session_storage(
    page: Page, live_server: LiveServer, backstage: Backstage
) -> None:
    manager = backstage.service_manager()
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    mark_session_storage(page)

    sign_in = home.signs_out()

    expect(page).to_have_url(path_is("/sign-in?reason=signed-out"))
    expect(sign_in.reason).to_have_text(SIGNED_OUT)
    assert_emptied_before_this_page(page)
    [session] = backstage.sessions_of(manager.account_id)
    assert (session.ended, session.end_reason) == (True, "signed-out")
    page.goto(live_server.url("/home"))
    expect(page).to_have_url(path_is("/sign-in?reason=signin"))
    # Signing out keeps the known-browser cookie: the next sign-in here is not told as new.
    assert "portal_browser" in {cookie["name"] for cookie in page.context.cookies()}


@pytest.mark.browser
def test_a_person_sees_the_browsers_used_to_sign_in_and_forgets_this_one(
    page: Page, live_server: LiveServer, backstage: Backstage
) -> None:
    manager = backstage.service_manager()
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    sessions = home.opens_their_account().opens_where_signed_in()
    # The header row and this browser (the member was made without a browser of their own).
    expect(sessions.browsers).to_have_count(2)
    expect(sessions.browsers.nth(1)).to_contain_text("Chrome on Linux (this browser)")

    sessions.forgets_this_browser()

    expect(page.get_by_text("No browser is in the list.")).to_be_visible()


@pytest.mark.browser
def test_idle_session_warns_then_stay_keeps_it_and_silence_ends_it(
    page: Page,
    live_server_factory: LiveServerFactory,
    backstage_of: Callable[[LiveServer], Backstage],
    browser_guard: BrowserGuard,
) -> None:
    # The session status check made after the end answers 401.
    browser_guard.expect("console", r"status of 401")
    server = live_server_factory(
        PORTAL_SESSION_IDLE_PARTICIPANT_MINUTES="1",
        PORTAL_SESSION_IDLE_STAFF_MINUTES="1",
        PORTAL_SESSION_WARNING_SECONDS="20",
    )
    backstage = backstage_of(server)
    manager = backstage.service_manager()
    # Time is moved on rather than waited for: in the page with Playwright's clock, on the
    # server by making the session's last request look older than it is.
    page.clock.install()
    home = SignInPage.open(page, server.base_url).signs_in(manager.name, manager.password)
    mark_session_storage(page)
    expect(home.session_warning).to_be_hidden()

    def nobody_touches_anything_for(seconds: int) -> None:
        backstage.make_sessions_idle(manager.account_id, for_=timedelta(seconds=seconds))
        page.clock.fast_forward(seconds * 1000)

    # 45 of the 60 seconds pass: the warning is due 20 seconds before the end.
    nobody_touches_anything_for(45)
    left = home.is_asked_if_still_there()
    seconds, unit = left.split()
    assert unit == "seconds"
    assert 10 <= int(seconds) <= 15

    home.stays_signed_in()
    [session] = backstage.sessions_of(manager.account_id)
    assert not session.ended
    assert session.idle_for < timedelta(seconds=5)

    # Again, and this time nobody answers until well after the end.
    nobody_touches_anything_for(45)
    home.is_asked_if_still_there()
    nobody_touches_anything_for(61)

    expect(page).to_have_url(path_is("/sign-in?reason=expired"))
    sign_in = SignInPage(page).arrived()
    expect(sign_in.reason).to_have_text(EXPIRED)
    assert_emptied_before_this_page(page)
    [session] = backstage.sessions_of(manager.account_id)
    assert (session.ended, session.end_reason) == (True, "idle")
    page.goto(server.url("/home"))
    expect(page).to_have_url(path_is("/sign-in?reason=signin"))
