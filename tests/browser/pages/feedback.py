"""Anonymous feedback: the offer on a participant's home after their case closes, the short
form, and the service manager's "What participants said" page and printable figures."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Locator, expect

from tests.browser.pages.portal import PortalPage, SignedInPage
from tests.browser.pages.reports import FiguresPage

# Checking the referral key against the trust log, sealing, opening: a busy 2-core machine.
SEALING_MS = 60_000


def dismisses_feedback(home: SignedInPage) -> None:
    """ "No thank you, do not ask again" on the home page's offer."""
    offer = home.page.get_by_role("region", name="Would you like to tell us how it went?")
    offer.get_by_role("button", name="No thank you, do not ask again").click()
    expect(
        home.page.get_by_role("status").filter(has_text="We will not ask again.")
    ).to_be_visible()
    home.check()


class FeedbackForm(SignedInPage):
    heading = "How did it go?"

    @classmethod
    def opened_from_home(cls, home: SignedInPage) -> FeedbackForm:
        offer = home.page.get_by_role("region", name="Would you like to tell us how it went?")
        offer.get_by_role("link", name="Answer the questions").click()
        return cls(home.page).arrived()

    def answers(self, question: str, reply: str) -> Self:
        self.page.get_by_role("group", name=question).get_by_label(reply, exact=True).check()
        return self

    def writes(self, text: str) -> Self:
        self.page.get_by_label("Anything else you would like to tell the service").fill(text)
        return self

    def sends(self) -> Self:
        button = self.page.get_by_role("button", name="Send my answers")
        expect(button).to_be_enabled(timeout=SEALING_MS)
        button.click()
        expect(self.page.locator("#feedback-thanks")).to_have_text(
            "Thank you. Your answers were saved without your name or your case.",
            timeout=SEALING_MS,
        )
        return self.check()


class WhatParticipantsSaid(SignedInPage):
    heading = "What participants said"

    @classmethod
    def opened_from(cls, figures: FiguresPage) -> WhatParticipantsSaid:
        figures.page.get_by_role("link", name="What participants said").click()
        return cls(figures.page).arrived()

    @property
    def texts(self) -> Locator:
        return self.page.locator("[data-feedback-words]")

    def back_to_the_figures(self) -> FiguresPage:
        main = self.page.get_by_role("main")
        main.get_by_role("link", name="Figures for the service").click()
        return FiguresPage(self.page).arrived()

    def unlocked(self) -> Self:
        expect(self.page.locator("[data-feedback-status]")).to_have_text(
            "Unlocked in your browser.", timeout=SEALING_MS
        )
        return self.check()


class PrintedFigures(PortalPage):
    heading = "figures for the service"

    @classmethod
    def opened_from(cls, figures: FiguresPage) -> PrintedFigures:
        figures.page.get_by_role(
            "link", name="a version to print or send to a commissioner"
        ).click()
        return cls(figures.page).arrived()

    def chart(self, title: str) -> Locator:
        return self.page.get_by_role("img", name=title)
