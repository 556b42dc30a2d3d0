"""The Invitations page: its htmx forms say a refusal where the person pressed the button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.pages import SignInPage
from tests.browser.support.backstage import Backstage
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_invitation_used_while_the_page_was_open_cannot_be_withdrawn_and_the_row_says_why(
    page: Page,
    live_server: LiveServer,
    backstage: Backstage,
    portal: Portal,
    browser_guard: BrowserGuard,
) -> None:
    browser_guard.expect("console", r"status of 409")
    manager = backstage.service_manager()
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    invitations = home.opens_invitations()
    invitation = invitations.invites("Facilitator")
    # Meanwhile, on their own device, the person joins with the code.
    portal.visitor().join_invited(invitation.code)

    said = invitations.tries_to_withdraw_newest()

    assert said == "This invitation has already been used, so it cannot be withdrawn."
