"""The service manager's Certify page: its part about the service's root."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import SignedInPage


class CertifyPage(SignedInPage):
    heading = "Certify staff"

    @classmethod
    def opened_from_home(cls, home: SignedInPage) -> CertifyPage:
        home.page.get_by_role("main").get_by_role("link", name="Certify staff").first.click()
        return cls(home.page).arrived()

    @property
    def root_part(self) -> Locator:
        return self.page.locator("#root-part")

    def root_candidates(self) -> list[str]:
        """The names offered as the next root (only the root sees any)."""
        group = self.root_part.get_by_role("group", name="Who becomes the root")
        return [label.strip() for label in group.locator("label").all_inner_texts()]

    def hands_over_the_root_to(self, name: str) -> CertifyPage:
        self.root_part.get_by_role("radio", name=name, exact=True).check()
        self.root_part.get_by_role("button", name="Hand over the root").click()
        question = self.page.get_by_role("dialog", name="Hand over the service's root?")
        question.get_by_role("button", name="Yes, hand it over").click()
        expect(self.root_part.get_by_role("status")).to_have_text(
            f"Handed over. “{name}” is now the service's root. Everyone's browser will follow "
            "the hand-over in the trust log."
        )
        self.check()
        return self
