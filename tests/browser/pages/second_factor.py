"""The second factor: the step after the password, and the account's factors page where staff
add one before anything else (docs/security.md "Second factor")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import SignedInPage, path_is
from tests.support import second_factor

if TYPE_CHECKING:
    from tests.browser.pages.home import HomePage

# Finishing signing in pins the trust root (a vault round trip) before the page moves on.
STEP_MS = 20_000


class ConfirmItIsYouPage(SignedInPage):
    heading = "Confirm it is you"

    @property
    def alert(self) -> Locator:
        return self.page.locator("#code-alert")

    def enters_code(self, code: str) -> HomePage:
        from tests.browser.pages.home import HomePage

        self.page.get_by_role("textbox", name=re.compile(r"code", re.IGNORECASE)).fill(code)
        self.page.get_by_role("button", name="Continue").click()
        expect(self.page).to_have_url(path_is("/home"), timeout=STEP_MS)
        return HomePage(self.page).arrived()

    def enters_app_code(self, name: str) -> HomePage:
        """The next code of ``name``'s authenticator app (tests/support/second_factor.py)."""
        secret = second_factor.secret_for(name)
        assert secret, f"{name} has no authenticator app the tests know"
        return self.enters_code(second_factor.next_code(secret))

    def tries_code(self, code: str) -> str:
        self.page.get_by_role("textbox", name=re.compile(r"code", re.IGNORECASE)).fill(code)
        self.page.get_by_role("button", name="Continue").click()
        expect(self.alert).not_to_be_empty()
        return self.alert.inner_text()

    def uses_passkey(self) -> HomePage:
        from tests.browser.pages.home import HomePage

        self.page.get_by_role("button", name="Use your passkey").click()
        expect(self.page).to_have_url(path_is("/home"), timeout=STEP_MS)
        return HomePage(self.page).arrived()


class SecondFactorPage(SignedInPage):
    heading = "Second factor"

    def arrived(self) -> SecondFactorPage:
        expect(self.page).to_have_url(re.compile(r"/account/second-factor(\?.*)?$"))
        return super().arrived()

    def adds_authenticator_app(self, name: str) -> SecondFactorPage:
        """Scan nothing: read the key the page shows as text, as someone typing it into their
        app would, and confirm with the app's first code."""
        self.page.get_by_role("link", name="Add an authenticator app").click()
        expect(
            self.page.get_by_role("heading", level=1, name="Add an authenticator app")
        ).to_be_visible()
        self.check()
        secret = self.page.locator("#app-secret").get_attribute("data-secret") or ""
        shown = self.page.locator("#app-secret").inner_text().replace(" ", "")
        assert shown == secret
        second_factor.remember(name, secret)
        self.page.get_by_label("6-digit code").fill(second_factor.used_now(secret))
        self.page.get_by_role("button", name="Add the app").click()
        expect(self.page.get_by_text("Your authenticator app is added.")).to_be_visible()
        return self.arrived()

    def adds_passkey(self) -> SecondFactorPage:
        self.page.get_by_role("button", name="Add a passkey").click()
        expect(self.page.get_by_text("Your passkey is added.")).to_be_visible(timeout=STEP_MS)
        return self.arrived()

    @property
    def factors(self) -> Locator:
        return self.page.locator("#held-heading + .item-list > li")

    def makes_backup_codes(self) -> list[str]:
        """Make new backup codes; the ones the page shows this once."""
        self.page.get_by_role("button", name="Make new backup codes").click()
        expect(self.page.get_by_role("heading", level=1, name="Your backup codes")).to_be_visible()
        self.check()
        codes = self.page.locator("#backup-codes code").all_inner_texts()
        self.page.get_by_role("link", name="I have kept them safe").click()
        self.arrived()
        return codes


class ResetSecondFactorPage(SignedInPage):
    """A service manager resets a colleague's second factor (Staff, then the colleague's row)."""

    heading = "Reset"

    @classmethod
    def opened_for(cls, page: SignedInPage, base_url: str, colleague: str) -> ResetSecondFactorPage:
        page.page.goto(base_url + "/staff/people")
        page.page.get_by_role("link", name=f"Reset second factor ({colleague})").click()
        expect(page.page.get_by_role("heading", level=1)).to_contain_text("second factor")
        return cls(page.page).check()

    def resets_without_ticking(self) -> str:
        self.page.get_by_role("button", name="Reset the second factor").click()
        expect(self.page.get_by_role("heading", level=1)).to_be_visible()
        return self.page.get_by_role("main").inner_text()

    def resets_after_checking_who_asked(self) -> str:
        self.page.get_by_role("checkbox", name=re.compile("I have checked")).check()
        self.page.get_by_role("button", name="Reset the second factor").click()
        expect(
            self.page.get_by_role("heading", level=1, name="Second factor reset")
        ).to_be_visible()
        self.check()
        return self.page.get_by_role("status").inner_text()
