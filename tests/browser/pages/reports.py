"""The service manager's figures page (/staff/reports)."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import SignedInPage


class FiguresPage(SignedInPage):
    heading = "Figures for the service"

    def shows_period(self, start: str, end: str) -> FiguresPage:
        self.page.get_by_label("From").fill(start)
        self.page.get_by_label("To", exact=True).fill(end)
        self.page.get_by_role("button", name="Show the figures").click()
        expect(self.page.locator("#reports-period")).to_have_text(
            f"From {start} to {end}, both days included."
        )
        return self.arrived()

    def figure(self, caption: str) -> Locator:
        return self.page.get_by_role("table", name=caption, exact=True)
