"""Signing in with a name and a password (the password itself never leaves the browser)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.portal import PortalPage, path_is

if TYPE_CHECKING:
    from tests.browser.pages.home import HomePage
    from tests.browser.pages.recover import RecoverPage
    from tests.browser.pages.second_factor import ConfirmItIsYouPage

# Signing in derives the key from the password in the browser (Argon2id, in a Worker) and the
# server checks it with argon2 too: seconds, not the 5 a page move is given, on a busy machine.
SIGN_IN_MS = 20_000


class SignInPage(PortalPage):
    heading = "Sign in"

    @classmethod
    def open(cls, page: Page, base_url: str) -> SignInPage:
        page.goto(base_url + "/sign-in")
        return cls(page).arrived()

    @property
    def alert(self) -> Locator:
        return self.page.locator("#sign-in-alert")

    @property
    def reason(self) -> Locator:
        """The notice saying why the person is here (signed out, expired, quick exit)."""
        return self.page.locator("#sign-in-reason")

    @property
    def button(self) -> Locator:
        return self.page.get_by_role("button", name=re.compile(r"^Sign in"))

    def fills_in(self, name: str, password: str) -> None:
        self.page.get_by_label("Sign-in name").fill(name)
        self.page.get_by_label("Password", exact=True).fill(password)

    def signs_in(self, name: str, password: str) -> HomePage:
        """Sign in; someone with an authenticator app (all staff the tests make) then types its
        next code on the step after the password."""
        from tests.browser.pages.home import HomePage
        from tests.browser.pages.second_factor import ConfirmItIsYouPage

        self.fills_in(name, password)
        self.button.click()
        expect(self.page).to_have_url(
            re.compile(r"/(home|sign-in/second-factor)$"), timeout=SIGN_IN_MS
        )
        if self.page.url.endswith("/sign-in/second-factor"):
            return ConfirmItIsYouPage(self.page).arrived().enters_app_code(name)
        return HomePage(self.page).arrived()

    def signs_in_with_password_only(self, name: str, password: str) -> ConfirmItIsYouPage:
        """The password step alone: the step after it is asked for next."""
        from tests.browser.pages.second_factor import ConfirmItIsYouPage

        self.fills_in(name, password)
        self.button.click()
        expect(self.page).to_have_url(path_is("/sign-in/second-factor"), timeout=SIGN_IN_MS)
        return ConfirmItIsYouPage(self.page).arrived()

    def tries_to_sign_in(self, name: str, password: str) -> str:
        """Sign in with something wrong; the sentence the alert then says."""
        self.fills_in(name, password)
        self.button.click()
        expect(self.alert).not_to_be_empty()
        # Still here: nothing moved on.
        expect(self.page.get_by_role("heading", level=1, name=self.heading)).to_be_visible()
        self.check()
        return self.alert.inner_text()

    def forgot_password(self) -> RecoverPage:
        from tests.browser.pages.recover import RecoverPage

        self.page.get_by_role("link", name=re.compile(r"^Forgotten your password\?")).click()
        return RecoverPage(self.page).arrived()
