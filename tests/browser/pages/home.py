"""The home page, where signing in and joining lead."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages.portal import SignedInPage, path_is


class HomePage(SignedInPage):
    heading = "Welcome"

    def arrived(self) -> HomePage:
        expect(self.page).to_have_url(path_is("/home"))
        return super().arrived()

    def signed_in_as(self) -> str:
        return self.page.get_by_role("main").locator("p strong").first.inner_text()
