"""Pages of a letter entered for a participant who cannot use the portal, as a facilitator uses
them: the enter page (from the participant's card on the case page)."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from tests.browser.pages.letters import UNLOCK_MS, UUID, FacilitatorPage, ReviewPage


class EnterPage(FacilitatorPage):
    """ "Enter a letter for Kai": their words, how and when they confirmed them, a note."""

    def __init__(self, page: Page, display_name: str) -> None:
        super().__init__(page)
        self.display_name = display_name

    def arrived(self) -> EnterPage:
        heading = f"Enter a letter for {self.display_name}"
        # The heading names them once the browser has unlocked their name with the case key.
        expect(self.page.get_by_role("heading", level=1, name=heading)).to_be_visible(
            timeout=UNLOCK_MS
        )
        expect(self.page.get_by_role("button", name="Send for review")).to_be_enabled(
            timeout=UNLOCK_MS
        )
        self.page.wait_for_load_state("load")
        return self.check()

    def enters(self, text: str, how: str, on: date, note: str = "") -> ReviewPage:
        """Type their letter, say how (``how``: the choice's words) and when they confirmed it,
        send it for review and say yes: the review page of the new letter opens."""
        self.page.get_by_label("Their letter").fill(text)
        self.page.get_by_role("radio", name=how).check()
        self.page.get_by_label("The date they confirmed it").fill(on.isoformat())
        if note:
            self.page.get_by_label("A note for the case's facilitators (optional)").fill(note)
        self.check()
        self.page.get_by_role("button", name="Send for review").click()
        yes = self.page.get_by_role("dialog").get_by_role("button", name="Yes, send it for review")
        expect(yes).to_be_visible()
        self.check()
        yes.click()
        expect(self.page).to_have_url(re.compile(rf"/review/{UUID}$"), timeout=UNLOCK_MS)
        return ReviewPage(self.page).arrived()
