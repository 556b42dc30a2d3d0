"""Page objects for what a browser refused (docs/api-trust.md, "Refusals"): where each page says
that a key or a release could not be confirmed, and the security events staff see at home.

Each refusal is read where the person looks: the participant's home (their facilitator's
number), the composer (why it cannot send), the inbox (why it was not opened), the case page and
the review page (why nothing can be unlocked or sealed).
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import SignInPage
from tests.browser.pages.home import HomePage
from tests.browser.pages.letters import UNLOCK_MS, ComposePage, InboxPage, ParticipantHome


class RefusingParticipantHome(ParticipantHome):
    """The participant's home when their case key was refused: no facilitator number."""

    @property
    def unconfirmed(self) -> Locator:
        return self.page.locator("#facilitator-unconfirmed")

    @property
    def problem(self) -> Locator:
        return self.page.locator("#facilitator-problem")

    def refusal(self) -> str:
        """What the facilitator-number section says; its warning must be there too."""
        expect(self.unconfirmed).to_be_visible()
        expect(self.problem).to_be_visible()
        expect(self.page.locator("#facilitator-confirmed")).to_be_hidden()
        expect(self.page.locator("#facilitator-fingerprint")).to_be_empty()
        return self.problem.inner_text()

    def starts_letter_that_cannot_be_sent(self) -> RefusingComposePage:
        self.page.get_by_role("link", name="Write a letter").click()
        return RefusingComposePage(self.page).arrived()


class RefusingComposePage(ComposePage):
    """The composer when the case key was refused: writing goes on, sending does not."""

    @property
    def cannot_send(self) -> Locator:
        return self.page.locator("#cannot-send")

    def refusal(self) -> str:
        expect(self.cannot_send).to_be_visible(timeout=UNLOCK_MS)
        expect(self.page.get_by_role("button", name="Send to your facilitator")).to_be_hidden()
        return self.cannot_send.inner_text()


class RefusingInboxPage(InboxPage):
    def tries_to_open_a_release_not_genuine(self) -> str:
        """Open it when the release is refused; what the page says. Nothing is shown, and no
        "Try again" is offered (trying again cannot make a refusal pass)."""
        sentence = self.opens_it_but_it_cannot_be_shown()
        expect(self.page.locator("#opened-media")).to_be_empty()
        expect(self.page.get_by_role("button", name="Try again")).to_have_count(0)
        return sentence


def participant_signs_in_to_refusal(
    page: Page, base_url: str, name: str, password: str
) -> RefusingParticipantHome:
    SignInPage.open(page, base_url).signs_in(name, password)
    home = RefusingParticipantHome(page)
    home.arrived()
    return home


class StaffHome(HomePage):
    """A facilitator's or service manager's home, with the security events they see."""

    @property
    def security_events(self) -> Locator:
        return self.page.locator("section[data-security-events] li[data-security-event]")

    def sees_security_event(self, words: str) -> str:
        """The newest event with these words (a refusal on two pages is two events)."""
        event = self.security_events.filter(has_text=words).first
        expect(event).to_be_visible()
        return event.inner_text()


def staff_signs_in(page: Page, base_url: str, name: str, password: str) -> StaffHome:
    SignInPage.open(page, base_url).signs_in(name, password)
    home = StaffHome(page)
    home.arrived()
    return home


def page_alert(page: Page, selector: str) -> str:
    """A page's alert (#case-alert, #review-alert) once it says something."""
    alert = page.locator(selector)
    expect(alert).not_to_be_empty(timeout=UNLOCK_MS)
    return alert.inner_text()
