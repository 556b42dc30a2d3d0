"""The account pages: the security number, changing the password, where one is signed in,
notices by e-mail."""

from __future__ import annotations

import re
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

    def opens_notices(self) -> NoticesPage:
        self.page.get_by_role("link", name="Notices by e-mail").click()
        return NoticesPage(self.page).arrived()


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

    @property
    def notice(self) -> Locator:
        return self.page.get_by_role("main").get_by_role("status")

    @property
    def browsers(self) -> Locator:
        """The rows of "Browsers used to sign in"."""
        return self.page.get_by_role("table", name="Browsers used to sign in").get_by_role("row")

    def forgets_this_browser(self) -> SessionsPage:
        row = self.browsers.filter(has_text="(this browser)")
        row.get_by_role("button", name=re.compile("^Forget")).click()
        expect(self.notice).to_contain_text("That browser has been forgotten.")
        return self


class NoticesPage(SignedInPage):
    heading = "Notices by e-mail"

    @property
    def notice(self) -> Locator:
        return self.page.get_by_role("main").get_by_role("status")

    def field_error(self, label: str) -> Locator:
        """The sentence shown beside the field ``label`` names."""
        field = self.page.get_by_label(label, exact=True)
        return self.page.locator(f"#{field.get_attribute('id')}-error")

    def asks_for_notices(
        self, email: str, *, each: bool = False, quiet: tuple[str, str] | None = None
    ) -> NoticesPage:
        """Fill in the choices and turn notices on (or save a change)."""
        self.page.get_by_label("E-mail address").fill(email)
        how = "An e-mail each time something happens" if each else "At most one e-mail a day"
        self.page.get_by_label(how).check()
        if quiet is not None:
            self.page.get_by_label("From", exact=True).fill(quiet[0])
            self.page.get_by_label("To", exact=True).fill(quiet[1])
        self.page.get_by_role("button", name=re.compile("Turn notices on|Save changes")).click()
        return self

    def sends_a_test(self) -> NoticesPage:
        self.page.get_by_role("button", name="Send me a test notice").click()
        expect(self.notice).to_contain_text("A test notice is on its way")
        return self.check()

    def turns_them_off(self) -> NoticesPage:
        self.page.get_by_role("button", name="Turn notices off and delete my address").click()
        expect(self.notice).to_have_text("Notices are off. Your e-mail address has been deleted.")
        return self.check()

    def fits_a_phone(self) -> None:
        """At 320 px wide nothing needs sideways scrolling; the page still passes axe."""
        # Imported here: pages/entered.py imports the package that imports this module.
        from tests.browser.pages.entered import fits_320

        fits_320(self.page)
        self.check()
