"""Joining with an invitation: made on the Invitations page, redeemed in another browser; and
what the join page says when the code or the chosen name cannot be used."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from tests.browser.pages import JoinPage, SignInPage
from tests.browser.pages.portal import path_is
from tests.browser.support.backstage import Backstage, new_password
from tests.browser.support.devices import NewContext
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_facilitator_invited_by_service_manager_joins_and_signs_in_again(
    page: Page, live_server: LiveServer, backstage: Backstage, new_context: NewContext
) -> None:
    manager = backstage.service_manager()
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    invitations = home.opens_invitations()
    assert invitations.roles_offered() == ["Facilitator", "Service manager"]
    invitation = invitations.invites("Facilitator")
    assert invitation.join_link == live_server.url(f"/join#code={invitation.code}")

    # The facilitator, on their own device.
    their_page = new_context().new_page()
    join = JoinPage.open(their_page, invitation.join_link)
    assert join.is_asked_how_to_sign_in() == "Facilitator"
    # The code is a secret: it does not stay in the address bar.
    expect(their_page).to_have_url(path_is("/join"))
    password = new_password()
    join.joins("Sam Okafor", password)
    sign_in = join.continues().signs_out()
    home_again = sign_in.signs_in("Sam Okafor", password)

    assert home_again.signed_in_as() == "sam okafor"
    assert home_again.navigation.get_by_role("link", name="Invitations").is_visible()


@pytest.mark.browser
def test_taken_name_is_refused_at_the_field_and_another_name_keeps_the_recovery_code(
    page: Page, live_server: LiveServer, backstage: Backstage, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 409")
    manager = backstage.service_manager(name="river")
    code = backstage.invitation_code(manager, Role.FACILITATOR)
    password = new_password()

    join = JoinPage.open(page, live_server.url("/join")).enters_code(code)
    join.is_asked_how_to_sign_in()
    join.chooses_name_and_password("River", password)
    recovery_code = join.saves_recovery_code()

    assert join.is_told_name_is_taken() == (
        "That sign-in name is already taken. Please choose another."
    )
    join.chooses_another_name("River Stone")
    # Straight to the end: no new keys, no new recovery code to save.
    join.sees_account_ready()
    join.continues().signs_out()

    # The recovery code saved before the name was refused belongs to the account.
    recovered = (
        SignInPage(page).forgot_password().recovers("River Stone", recovery_code, new_password())
    )
    assert recovered != recovery_code


@pytest.mark.browser
def test_unknown_invitation_code_is_refused_at_the_field(
    page: Page, live_server: LiveServer, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 410")
    join = JoinPage.open(page, live_server.url("/join"))

    join.enters_code("ABCD-EFGH-JKMN-PQRS")

    assert join.is_told_code_is_refused() == (
        "That code is not valid, has expired or has already been used. Please ask for a new one."
    )
    expect(page.get_by_role("heading", name="Choose how you will sign in")).to_be_hidden()
