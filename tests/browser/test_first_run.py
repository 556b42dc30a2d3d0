"""The first run: the setup link the server prints creates the service manager account."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from portal import protocol
from tests.browser.pages import SetupPage
from tests.browser.support.backstage import Backstage, new_password
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_printed_setup_link_creates_service_manager_with_checked_recovery_code(
    page: Page, live_server: LiveServer, backstage: Backstage
) -> None:
    setup = SetupPage.open(page, live_server.setup_link())

    assert setup.is_asked_how_to_sign_in() == "Service manager"
    setup.chooses_name_and_password("Morgan Reyes", new_password())
    recovery_code = setup.saves_recovery_code()
    security_number = setup.sees_account_ready()
    home = setup.continues()

    assert home.signed_in_as() == "morgan reyes"
    # The browser computed the number from the key pair it made; the account page computes it
    # on the server from the public key it stored: the same key arrived.
    assert home.opens_their_account().security_number() == security_number
    stored = backstage.account_named("Morgan Reyes")
    assert stored.signing_public_key is not None
    assert security_number == protocol.format_fingerprint(
        protocol.identity_fingerprint_digits(stored.public_key, stored.signing_public_key)
    )
    assert len(recovery_code.split("-")) == 13


@pytest.mark.browser
def test_setup_link_used_once_is_refused(
    page: Page, live_server: LiveServer, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 410")
    link = live_server.setup_link()
    setup = SetupPage.open(page, link)
    setup.joins("Morgan Reyes", new_password())
    setup.continues()

    again = SetupPage.open(page, link)

    assert "not valid" in again.is_told_code_is_refused()
    assert again.code_field.is_visible()
