"""Quick exit: "Leave this site" or Shift three times hides the portal and ends the session."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import NeutralSite, SessionsPage, SignInPage
from tests.browser.support.backstage import Backstage, Member
from tests.browser.support.storage import mark_session_storage, session_storage
from tests.support.live_server import LiveServer


@dataclass(frozen=True)
class Visit:
    member: Member
    history_on_arrival: int


def history_length(page: Page) -> int:
    length: int = page.evaluate("() => history.length")
    return length


def browse_a_few_pages(
    page: Page, server: LiveServer, backstage: Backstage
) -> tuple[SessionsPage, Visit]:
    """Sign in and go home -> account -> sessions, as someone using the portal would."""
    member = backstage.service_manager()
    sign_in = SignInPage.open(page, server.base_url)
    visit = Visit(member, history_length(page))
    home = sign_in.signs_in(member.name, member.password)
    sessions = home.opens_their_account().opens_where_signed_in()
    assert "portal_browser" in {cookie["name"] for cookie in page.context.cookies()}
    mark_session_storage(page)
    return sessions, visit


def assert_portal_left_behind(
    site: NeutralSite, server: LiveServer, backstage: Backstage, visit: Visit
) -> None:
    page = site.page
    # Every move inside the portal replaced its one history entry, and so did the exit.
    assert history_length(page) == visit.history_on_arrival
    page.go_back()
    assert not page.url.startswith(server.base_url), page.url
    member = visit.member

    # The beacon that ends the session races the navigation: give it a moment to arrive.
    deadline = time.monotonic() + 5
    while not all(row.ended for row in backstage.sessions_of(member.account_id)):
        assert time.monotonic() < deadline, "the session was not ended on the server"
        time.sleep(0.05)
    assert {row.end_reason for row in backstage.sessions_of(member.account_id)} == {"quick-exit"}
    # The beacon's answer also drops the long-lived known-browser cookie, the one trace the
    # portal would otherwise leave in the browser (docs/security.md, "Known browsers").
    while "portal_browser" in {cookie["name"] for cookie in page.context.cookies()}:
        assert time.monotonic() < deadline, "the known-browser cookie was kept"
        time.sleep(0.05)

    # The same tab, back at the portal's origin, on a page that runs no script of the portal's:
    # what the tab kept for that origin is all still there to read, and it is nothing.
    page.goto(server.url("/healthz"))
    assert session_storage(page) == {}
    page.goto(server.url("/home"))
    # "signin" once the beacon's answer has dropped the cookie, "expired" if it is still on
    # its way: either way the person is not signed in.
    expect(page).to_have_url(re.compile(r"/sign-in\?reason=(signin|expired)$"))
    SignInPage(page).arrived()


@pytest.mark.browser
def test_leave_this_site_button_replaces_the_portal_and_ends_the_session(
    page: Page, live_server: LiveServer, backstage: Backstage
) -> None:
    sessions, visit = browse_a_few_pages(page, live_server, backstage)

    site = sessions.leaves_with_the_button()

    assert_portal_left_behind(site, live_server, backstage, visit)


@pytest.mark.browser
def test_shift_three_times_replaces_the_portal_and_ends_the_session(
    page: Page, live_server: LiveServer, backstage: Backstage
) -> None:
    sessions, visit = browse_a_few_pages(page, live_server, backstage)
    # The way out is the first thing the keyboard reaches.
    sessions.presses_tab()
    expect(sessions.leave_button).to_be_focused()

    site = sessions.leaves_by_pressing_shift_three_times()

    assert_portal_left_behind(site, live_server, backstage, visit)
