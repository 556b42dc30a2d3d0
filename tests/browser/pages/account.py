"""The account pages: the security number, changing the password, where one is signed in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import SignedInPage, path_is, shown_qr

KDF_MS = 20_000


if TYPE_CHECKING:
    from tests.browser.pages.second_factor import SecondFactorPage


class AccountPage(SignedInPage):
    heading = "Your account"

    def opens_second_factor(self) -> SecondFactorPage:
        from tests.browser.pages.second_factor import SecondFactorPage

        self.page.get_by_role("link", name="Second factor").click()
        return SecondFactorPage(self.page).arrived()

    def security_number(self) -> str:
        return self.page.locator("[data-fingerprint]").inner_text()

    def security_qr(self) -> str:
        return shown_qr(self.page.locator("#own-qr"))

    @property
    def notice(self) -> Locator:
        return self.page.get_by_role("main").get_by_role("status")

    def opens_password_change(self) -> PasswordPage:
        self.page.get_by_role("link", name="Change your password").click()
        return PasswordPage(self.page).arrived()

    def opens_where_signed_in(self) -> SessionsPage:
        self.page.get_by_role("link", name="Where you are signed in").click()
        return SessionsPage(self.page).arrived()


class PasswordPage(SignedInPage):
    heading = "Change your password"

    def changes_password(self, current: str, new: str) -> AccountPage:
        self.page.get_by_label("Current password").fill(current)
        self.page.get_by_label("New password", exact=True).fill(new)
        self.page.get_by_label("Type the new password again").fill(new)
        self.page.get_by_role("button", name="Change password").click()
        # Two key derivations at full cost (the old password checked, the new one made).
        expect(self.page).to_have_url(path_is("/account?changed=password"), timeout=KDF_MS)
        return AccountPage(self.page).arrived()


class SessionsPage(SignedInPage):
    heading = "Where you are signed in"
