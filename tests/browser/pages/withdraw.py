"""Withdrawing from the process: the page is the confirmation, its one button an htmx form."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import SignedInPage


class WithdrawPage(SignedInPage):
    heading = "Withdraw from the process"

    @property
    def button(self) -> Locator:
        return self.page.get_by_role("button", name="Yes, withdraw from the process")

    @property
    def alert(self) -> Locator:
        return self.page.locator("#withdraw-alert")

    def withdraws(self) -> None:
        """Press the button; the caller waits for the home page the server sends them to."""
        self.button.click()

    def tries_to_withdraw(self) -> str:
        """Press the button and be refused: still here; the alert's sentence."""
        self.button.click()
        expect(self.alert).not_to_be_empty()
        expect(self.page.get_by_role("heading", level=1, name=self.heading)).to_be_visible()
        # The button is back to itself, ready for another try.
        expect(self.button).not_to_have_attribute("aria-disabled", "true")
        self.check()
        return self.alert.inner_text()
