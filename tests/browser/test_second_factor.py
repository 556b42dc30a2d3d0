"""The second factor in a real browser (docs/security.md "Second factor"): a passkey added on
the account page and used at the next sign-in, through Chromium's virtual authenticator (the
DevTools protocol's WebAuthn domain), on a 320 px phone; a password alone opens no case."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import CDPSession, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role
from portal.factors.models import FactorKind, SecondFactor
from tests.browser.pages import SignInPage
from tests.browser.pages.portal import path_is
from tests.browser.pages.second_factor import ResetSecondFactorPage
from tests.browser.support.backstage import Backstage
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer, LiveServerFactory


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator (a phone's fingerprint reader, say) that always verifies."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


@pytest.mark.browser
def test_a_passkey_added_on_the_account_page_signs_in_on_a_phone(
    page: Page,
    live_server_factory: LiveServerFactory,
    backstage_of: Callable[[LiveServer], Backstage],
    browser_guard: BrowserGuard,
) -> None:
    # The wrong code typed on purpose is answered 401.
    browser_guard.expect("console", r"status of 401")
    # A browser refuses an IP address as a passkey's site: the portal is reached as localhost.
    server = live_server_factory(PORTAL_WEBAUTHN_RP_ID="localhost")
    backstage = backstage_of(server)
    manager = backstage.service_manager()
    base = server.base_url.replace("127.0.0.1", "localhost")
    page.set_viewport_size({"width": 320, "height": 640})
    cdp, authenticator = virtual_authenticator(page)

    home = SignInPage.open(page, base).signs_in(manager.name, manager.password)
    factors = home.opens_their_account().opens_second_factor()
    factors.adds_passkey()
    expect(factors.factors).to_have_count(2)
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    sign_in = factors.signs_out()

    step = sign_in.signs_in_with_password_only(manager.name, manager.password)
    # With the password alone, no case page opens: it is the step again.
    page.goto(base + "/cases")
    expect(page).to_have_url(path_is("/sign-in/second-factor"))
    assert "did not work" in step.arrived().tries_code("000000")
    step.uses_passkey()

    [used] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert used["signCount"] > credential["signCount"]
    with Session(backstage.engine) as db:
        passkey = db.scalars(
            select(SecondFactor).where(
                SecondFactor.account_id == manager.account_id,
                SecondFactor.kind == FactorKind.PASSKEY,
            )
        ).one()
    # The server kept the authenticator's counter, to refuse a cloned one that lags behind.
    assert passkey.sign_count == used["signCount"]


@pytest.mark.browser
def test_backup_codes_sign_in_once_and_a_manager_resets_a_colleague(
    page: Page, live_server: LiveServer, backstage: Backstage, browser_guard: BrowserGuard
) -> None:
    # The used backup code typed again is answered 401.
    browser_guard.expect("console", r"status of 401")
    manager = backstage.service_manager()
    colleague = backstage.invited(backstage.service_manager("sam"), Role.FACILITATOR, "ruth")
    page.set_viewport_size({"width": 320, "height": 640})
    base = live_server.base_url

    home = SignInPage.open(page, base).signs_in(manager.name, manager.password)
    factors = home.opens_their_account().opens_second_factor()
    codes = factors.makes_backup_codes()
    assert len(codes) == 10
    step = factors.signs_out().signs_in_with_password_only(manager.name, manager.password)
    home = step.enters_code(codes[0])
    step = home.signs_out().signs_in_with_password_only(manager.name, manager.password)
    assert "did not work" in step.tries_code(codes[0])
    home = step.enters_code(codes[1])

    reset = ResetSecondFactorPage.opened_for(home, base, "ruth")
    reset.resets_after_checking_who_asked()
    with Session(backstage.engine) as db:
        left = db.scalars(
            select(SecondFactor).where(SecondFactor.account_id == colleague.account_id)
        ).all()
    assert not left
    reset.signs_out()
    SignInPage.open(page, base).fills_in(colleague.name, colleague.password)
    SignInPage(page).button.click()
    expect(page).to_have_url(path_is("/account/second-factor"), timeout=20_000)
    expect(page.locator("#must-enrol")).to_be_visible()
