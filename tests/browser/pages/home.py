"""The home page, where signing in and joining lead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import SignedInPage, path_is

if TYPE_CHECKING:
    from tests.browser.pages.account import NoticesPage


class HomePage(SignedInPage):
    heading = "Welcome"

    def arrived(self) -> HomePage:
        expect(self.page).to_have_url(path_is("/home"))
        return super().arrived()

    def signed_in_as(self) -> str:
        return self.page.get_by_role("main").locator("p strong").first.inner_text()

    def what_happened_lately(self) -> Locator:
        """The lines of "What happened lately" (partials/recent_events.html)."""
        section = self.page.get_by_role("region", name="What happened lately")
        return section.get_by_role("listitem")

    def opens_everything_that_happened(self) -> NoticesPage:
        from tests.browser.pages.account import NoticesPage

        self.page.get_by_role("link", name="Everything from the last few months").click()
        return NoticesPage(self.page).arrived()
