"""Page objects for supporters and representatives: their part of a participant's card on the
case page, the supporter's home and what they read there, and the participant's "People who
support you" with taking access away.

As elsewhere, each step waits until the page shows its result and runs the accessibility check.
"""

from __future__ import annotations

import re
from typing import Self

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import HomePage, JoinPage
from tests.browser.pages.entered import fits_320
from tests.browser.pages.letters import (
    UNLOCK_MS,
    CasePage,
    ComposePage,
    InboxPage,
    Invitation,
    ParticipantHome,
    paragraphs,
)
from tests.browser.pages.portal import SignedInPage, path_is


class SupportersOnCasePage:
    """The "Supporters and representatives" part of one participant's card."""

    def __init__(self, case: CasePage, participant_name: str) -> None:
        self.case = case
        self.card = case.participant(participant_name)

    @property
    def part(self) -> Locator:
        return self.card.locator('[data-part="supporters"]')

    def supporter(self, display_name: str) -> Locator:
        return self.part.locator("li.supporter").filter(has_text=display_name)

    def adds(
        self, display_name: str, *, representative: bool = False, may_write: bool = False
    ) -> None:
        """Add someone, recording that the participant agreed; their name is locked in this
        browser and shown again, unlocked, in the card the server sends back."""
        self.part.locator("summary").click()
        kind = "A representative" if representative else "A supporter"
        self.part.get_by_role("radio", name=re.compile(rf"^{kind}")).check()
        self.part.get_by_role("textbox", name="Their display name").fill(display_name)
        self.part.get_by_role("checkbox", name=re.compile(r"^Write and send")).set_checked(
            may_write
        )
        self.part.get_by_role("checkbox", name=re.compile(r"agreed to this$")).check()
        self.case.check()
        self.part.get_by_role("button", name="Add", exact=True).click()
        expect(self.supporter(display_name)).to_be_visible(timeout=UNLOCK_MS)
        expect(self.case.status_message).to_contain_text("Create their invitation")
        self.case.check()

    def invites(self, display_name: str) -> Invitation:
        row = self.supporter(display_name)
        row.get_by_role("button", name=re.compile(r"^Create an invitation")).click()
        code = self.part.locator("[data-invitation-code]")
        expect(code).to_be_visible(timeout=UNLOCK_MS)
        self.case.check()
        return Invitation(
            code=code.inner_text().strip(),
            join_link=self.part.locator("[data-join-link]").inner_text().strip(),
        )

    def access_of(self, display_name: str) -> Locator:
        return self.supporter(display_name).locator('[data-fact="access"]')

    def compared_in_person(self, display_name: str) -> None:
        row = self.supporter(display_name)
        row.get_by_role("button", name=re.compile(r"^We compared this number in person")).click()
        row = self.supporter(display_name)
        expect(row.locator('[data-part="security"]')).to_have_attribute(
            "data-key-status", "verified", timeout=UNLOCK_MS
        )
        self.case.check()


class SupporterHome(HomePage):
    def arrived(self) -> Self:
        expect(self.page).to_have_url(path_is("/home"))
        expect(self.page.get_by_role("heading", level=1, name=self.heading)).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    @property
    def summary(self) -> Locator:
        return self.page.locator("#home-summary")

    def fits_a_phone(self) -> Self:
        """At 320 px wide nothing needs sideways scrolling; the page still passes axe."""
        fits_320(self.page)
        return self.check()

    @property
    def readable(self) -> Locator:
        return self.page.locator("#readable-items li")

    def reloads(self) -> Self:
        self.page.reload()
        return self.arrived()

    def opens_waiting_item(self) -> InboxForThemPage:
        """Holding the side of someone without an account: go to what waits for them."""
        waiting = self.page.locator("#waiting-items")
        expect(waiting).to_contain_text("for the person you represent")
        waiting.get_by_role("link", name=re.compile(r"^See the choices")).first.click()
        return InboxForThemPage(self.page).arrived()

    def writes_for_them(self) -> ComposePage:
        """Start a letter on the participant's behalf; the composer says so."""
        self.page.get_by_role("link", name="Write a letter for them").click()
        composer = ComposePage(self.page).arrived()
        expect(self.page.locator("#compose-on-behalf")).to_contain_text("writing on behalf of")
        return composer

    def reads_latest(self) -> list[str]:
        """Open the latest thing the participant chose to receive; its paragraphs."""
        self.readable.first.get_by_role("link").click()
        reading = SupportingPage(self.page).arrived()
        return reading.opens_it()


class InboxForThemPage(InboxPage):
    """What was passed on for the participant whose side I hold: their inbox page, in words
    that say whose it is."""

    heading = "Something for the person you represent"


class SupportingPage(SignedInPage):
    """Something the participant chose to open, as their supporter reads it."""

    def arrived(self) -> Self:
        title = re.compile(r"^Passed on to the ")
        expect(self.page.get_by_role("heading", level=1, name=title)).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    def opens_it(self) -> list[str]:
        self.page.get_by_role("button", name="Open it", exact=True).click()
        text = self.page.locator("#opened-text")
        expect(text).to_be_visible(timeout=UNLOCK_MS)
        self.check()
        return paragraphs(text)


def supporter_joins(page: Page, join_link: str, name: str, password: str) -> SupporterHome:
    join = JoinPage.open(page, join_link)
    join.joins(name, password)
    join.continues()
    return SupporterHome(page).arrived()


class AskingForSomeone:
    """ "Ask for someone to support you" on the participant's home: the kind of helper and what
    they may do, sent to the facilitator, who talks it through before anyone is invited."""

    def __init__(self, home: ParticipantHome) -> None:
        self.home = home
        self.page = home.page

    def opens_the_form(self) -> Self:
        self.page.get_by_text("Ask for someone to support you", exact=True).click()
        expect(self.page.get_by_role("button", name="Ask my facilitator")).to_be_visible()
        self.home.check()
        return self

    def fits_a_phone(self) -> Self:
        """At 320 px wide nothing needs sideways scrolling; the page still passes axe."""
        fits_320(self.page)
        self.home.check()
        return self

    def asks_for_a_representative_who_may_write(self) -> Self:
        self.page.get_by_label("A representative", exact=True).check()
        self.page.get_by_label(re.compile(r"^Write and send for me")).check()
        self.page.get_by_role("button", name="Ask my facilitator").click()
        expect(self.page.locator("#supporter-request")).to_contain_text(
            "for a representative who may", timeout=UNLOCK_MS
        )
        self.home.check()
        return self


class PeopleWhoSupportMe:
    """The participant's own list on their home page."""

    def __init__(self, home: ParticipantHome) -> None:
        self.home = home
        self.section = home.page.locator("#my-supporters")

    def takes_away_access(self) -> ParticipantHome:
        self.section.get_by_role("button", name=re.compile(r"^Take away access")).first.click()
        question = self.home.page.get_by_role("dialog", name="Take away their access?")
        expect(question).to_be_visible()
        self.home.check()
        question.get_by_role("button", name="Take away access").click()
        expect(self.section).to_contain_text("Access taken away on", timeout=UNLOCK_MS)
        return ParticipantHome(self.home.page).arrived()
