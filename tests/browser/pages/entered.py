"""Pages for a participant who cannot use the portal, as a facilitator uses them: the enter page
(from the participant's card on the case page), the review of a reply released on paper, and
the print view."""

from __future__ import annotations

import re
from datetime import date
from typing import Self

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.letters import (
    UNLOCK_MS,
    UUID,
    FacilitatorHome,
    FacilitatorPage,
    QueuePage,
    ReviewPage,
)
from tests.browser.pages.media import SEND_MS, MediaParts


def fits_320(page: Page) -> None:
    """Shown 320 px wide: no sideways scrolling. The size the page had is put back after."""
    before = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    if before:
        page.set_viewport_size(before)


class EnterPage(MediaParts, FacilitatorPage):
    """ "Enter a letter or recording for Kai": their words, scanned pages or a recording, how
    and when they confirmed it, a note."""

    def __init__(self, page: Page, display_name: str) -> None:
        super().__init__(page)
        self.display_name = display_name

    def heading_text(self) -> str:
        return f"Enter a letter or recording for {self.display_name}"

    def arrived(self) -> Self:
        heading = self.heading_text()
        # The heading names them once the browser has unlocked their name with the case key.
        expect(self.page.get_by_role("heading", level=1, name=heading)).to_be_visible(
            timeout=UNLOCK_MS
        )
        expect(self.page.get_by_role("button", name="Send for review")).to_be_enabled(
            timeout=UNLOCK_MS
        )
        self.page.wait_for_load_state("load")
        return self.check()

    def fits_a_phone(self) -> None:
        """At 320 px wide nothing needs sideways scrolling; the form still passes axe."""
        fits_320(self.page)
        self.check()

    def enters(self, text: str, how: str, on: date, note: str = "") -> ReviewPage:
        """Type their letter, say how (``how``: the choice's words) and when they confirmed it,
        send it for review and say yes: the review page of the new letter opens."""
        self.page.get_by_label("Their letter").fill(text)
        return self.sends_for_review(how, on, note)

    def sends_for_review(
        self, how: str, on: date, note: str = "", *, what: str = "a letter"
    ) -> ReviewPage:
        """Say how and when they confirmed what is entered (typed, recorded or added above),
        send it for review and say yes: the review page of ``what`` opens once it is sent."""
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
        expect(self.page).to_have_url(re.compile(rf"/review/{UUID}$"), timeout=SEND_MS)
        return ReviewPage(self.page, what).arrived()


class RevisePage(EnterPage):
    """ "Make changes to the letter for Kai": the feedback, their words as they were, and a
    fresh confirmation of the changed version."""

    def heading_text(self) -> str:
        return f"Make changes to the letter for {self.display_name}"

    def feedback(self) -> str:
        box = self.page.locator("#feedback-text")
        expect(box).to_have_attribute("data-sealed-state", "open", timeout=UNLOCK_MS)
        return box.text_content() or ""

    def letter_as_it_was(self) -> str:
        box = self.page.get_by_label("Their letter")
        expect(box).not_to_have_value("", timeout=UNLOCK_MS)
        return box.input_value()


class EnteredReviewPage(ReviewPage):
    """The review of something entered for a participant without access."""

    def makes_the_changes_for_them(self, display_name: str) -> RevisePage:
        """Returned for changes: the review page links to the revise page."""
        self.page.get_by_role("link", name="make the changes for them").click()
        return RevisePage(self.page, display_name).arrived()


class PaperReviewPage(ReviewPage):
    """The review of a letter to someone without access: approving releases it on paper."""

    def approves_on_paper(self) -> QueuePage:
        choice = "Approve it and offer it to the recipient"
        expect(self.page.locator("#approve-on-paper")).to_contain_text("releases it on paper")
        self.page.get_by_role("radio", name=choice).check()
        # No security number to compare and no note: nothing of theirs needs a key.
        expect(self.page.locator("#key-understood")).to_have_count(0)
        return self._decides(choice, None, None, "Yes, approve it")

    def opens_print_view(self, display_name: str) -> PrintPage:
        self.page.get_by_role("link", name=f"Print it for {display_name}").click()
        return PrintPage(self.page, display_name).arrived()


class PrintPage(FacilitatorPage):
    """The print view: the letter opened in this browser, and "Print the letter"."""

    def __init__(self, page: Page, display_name: str) -> None:
        super().__init__(page)
        self.display_name = display_name

    def arrived(self) -> PrintPage:
        heading = f"Print the letter for {self.display_name}"
        expect(self.page.get_by_role("heading", level=1, name=heading)).to_be_visible(
            timeout=UNLOCK_MS
        )
        expect(self.page.locator("#print-status")).to_have_text(
            "The letter is ready to print.", timeout=UNLOCK_MS
        )
        self.page.wait_for_load_state("load")
        return self.check()

    def letter_text(self) -> str:
        return self.page.locator("#printed-text").text_content() or ""

    def fits_a_phone(self) -> None:
        fits_320(self.page)
        self.check()

    def prints(self) -> None:
        """Press "Print the letter". The browser's own print dialog is not driven here: the
        page's call to it is recorded instead."""
        self.page.evaluate(
            "() => { window.print = () => { window.printed = (window.printed || 0) + 1 } }"
        )
        self.page.get_by_role("button", name="Print the letter").click()
        expect(self.page.locator("#print-status")).to_contain_text("Printing", timeout=UNLOCK_MS)
        assert self.page.evaluate("window.printed") == 1

    def on_paper_shows_only_the_letter(self) -> None:
        """As printed: the letter, and none of the portal around it."""
        self.page.emulate_media(media="print")
        expect(self.page.locator("#printed-letter")).to_be_visible()
        for chrome in (".site-header", ".quick-exit-bar", ".print-controls", ".site-footer"):
            expect(self.page.locator(chrome)).to_be_hidden()
        self.page.emulate_media(media="screen")


class HomeWithLettersToPrint(FacilitatorHome):
    """The facilitator's home with its "Letters to print" task."""

    def arrived(self) -> Self:
        super().arrived()
        return self

    @property
    def letters_to_print(self) -> Locator:
        return self.page.locator("#to-print")

    def prints_from_the_task(self, side: str, display_name: str) -> PrintPage:
        """ "Print it" beside the letter for ``side`` ("the person responsible")."""
        expect(self.letters_to_print).to_contain_text(f"a letter for {side}")
        self.letters_to_print.get_by_role(
            "link", name=re.compile(f"^Print it: the letter for {side} in case")
        ).click()
        return PrintPage(self.page, display_name).arrived()
