"""Getting back in with the recovery code: a new password and a new recovery code."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.home import HomePage
from tests.browser.pages.recovery_code import RecoveryCodeSteps


class RecoverPage(RecoveryCodeSteps):
    heading = "Use your recovery code"
    # The name given, for the second factor staff are asked for next (the recovery code, like
    # the password, only unlocks the keys).
    recovering_name: str = ""

    @classmethod
    def open(cls, page: Page, base_url: str) -> RecoverPage:
        page.goto(base_url + "/recover")
        return cls(page).arrived()

    @property
    def alert(self) -> Locator:
        return self.page.locator("#start-alert")

    def gives_name_and_code(self, name: str, recovery_code: str) -> None:
        self.recovering_name = name
        self.page.get_by_label("Sign-in name").fill(name)
        self.page.get_by_label("Recovery code").fill(recovery_code)
        self.page.get_by_role("button", name="Continue", exact=True).click()

    def is_asked_for_new_password(self) -> None:
        expect(self.page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        self.check()

    def chooses_new_password(self, password: str) -> None:
        self.is_asked_for_new_password()
        self.page.get_by_label("New password", exact=True).fill(password)
        self.page.get_by_label("Type the new password again").fill(password)
        self.page.get_by_role("button", name="Continue", exact=True).click()

    def recovers(self, name: str, recovery_code: str, new_password: str) -> str:
        """Name, old code, new password, new code saved and checked; the new code."""
        self.gives_name_and_code(name, recovery_code)
        self.chooses_new_password(new_password)
        new_code = self.saves_recovery_code()
        back_in = self.page.get_by_role("heading", name="You are back in your account")
        expect(back_in).to_be_visible()
        self.check()
        return new_code

    def continues(self) -> HomePage:
        """Home; someone with an authenticator app types its next code on the way."""
        from tests.browser.pages.second_factor import ConfirmItIsYouPage

        self.page.get_by_role("button", name="Continue", exact=True).click()
        expect(self.page).to_have_url(re.compile(r"/(home|sign-in/second-factor)$"))
        if self.page.url.endswith("/sign-in/second-factor"):
            step = ConfirmItIsYouPage(self.page).arrived()
            return step.enters_app_code(self.recovering_name)
        return HomePage(self.page).arrived()

    def is_refused(self) -> str:
        """The code did not work: still at the first step; the alert's sentence."""
        expect(self.alert).not_to_be_empty()
        expect(self.page.get_by_label("Recovery code")).to_be_visible()
        self.check()
        return self.alert.inner_text()
