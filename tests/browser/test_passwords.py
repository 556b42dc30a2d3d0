"""Changing the password, and getting back in with the recovery code."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import RecoverPage, SetupPage, SignInPage
from tests.browser.pages.portal import path_is
from tests.browser.support.backstage import Backstage, new_password
from tests.browser.support.devices import NewContext
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer

WRONG_PASSWORD = "That name and password do not match. Check them and try again."
WRONG_CODE = "That name and recovery code do not match. Check them and try again."
CHANGED = (
    "Your password has been changed. Any other devices you were signed in on have been signed out."
)


@pytest.mark.browser
def test_changed_password_replaces_the_old_one_and_signs_out_other_devices(
    page: Page,
    live_server: LiveServer,
    backstage: Backstage,
    browser_guard: BrowserGuard,
    new_context: NewContext,
) -> None:
    browser_guard.expect("console", r"status of 401")
    manager = backstage.service_manager()
    other_device = new_context().new_page()
    SignInPage.open(other_device, live_server.base_url).signs_in(manager.name, manager.password)
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    password = new_password()

    account = (
        home.opens_their_account()
        .opens_password_change()
        .changes_password(manager.password, password)
    )

    expect(account.notice).to_have_text(CHANGED)
    # As the notice says: the other device is signed out, this one is not.
    other_device.reload()
    expect(other_device).to_have_url(path_is("/sign-in?reason=expired"))
    sign_in = account.goes_home().signs_out()
    assert sign_in.tries_to_sign_in(manager.name, manager.password) == WRONG_PASSWORD
    assert sign_in.signs_in(manager.name, password).signed_in_as() == manager.name


@pytest.mark.browser
def test_recovery_code_from_joining_sets_new_password_and_is_replaced(
    page: Page, live_server: LiveServer, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 401")
    first_password, second_password = new_password(), new_password()
    setup = SetupPage.open(page, live_server.setup_link())
    joined = setup.joins("Ada Quinn", first_password)
    setup.continues().signs_out()

    recover = SignInPage(page).forgot_password()
    new_code = recover.recovers("Ada Quinn", joined.recovery_code, second_password)
    recover.continues().signs_out()

    assert new_code != joined.recovery_code
    sign_in = SignInPage(page)
    assert sign_in.tries_to_sign_in("Ada Quinn", first_password) == WRONG_PASSWORD
    sign_in.signs_in("Ada Quinn", second_password).signs_out()
    # The old code is spent; the new one, as shown and checked, opens the account.
    recover = RecoverPage.open(page, live_server.base_url)
    recover.gives_name_and_code("Ada Quinn", joined.recovery_code)
    assert recover.is_refused() == WRONG_CODE
    recover.gives_name_and_code("Ada Quinn", new_code)
    recover.is_asked_for_new_password()
