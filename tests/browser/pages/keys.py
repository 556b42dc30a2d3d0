"""Page objects for keys that change: the "Lost their password and recovery code?" part of a
participant's card on the case page, the review page refusing a release to a changed key, and
what the person sees on their home while they wait.

As elsewhere, each step waits until the page shows its result and runs the accessibility check.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.pages.letters import UNLOCK_MS, CasePage, Invitation, ParticipantHome, ReviewPage


class NewKeyOnCasePage:
    """The part of a participant's card that makes a code for a new key."""

    def __init__(self, case: CasePage, participant_name: str) -> None:
        self.case = case
        self.part = case.participant(participant_name).locator('[data-part="rekey"]')

    def creates_code(self) -> Invitation:
        """After checking in person who they are: the code and link, shown once."""
        self.part.locator("summary").click()
        self.case.check()
        self.part.get_by_role("button", name="Create a code for a new key").click()
        code = self.part.locator("[data-invitation-code]")
        expect(code).to_be_visible(timeout=UNLOCK_MS)
        expect(self.case.status_message).to_contain_text("A code for a new key was created")
        self.case.check()
        return Invitation(
            code=code.inner_text().strip(),
            join_link=self.part.locator("[data-join-link]").inner_text().strip(),
        )


def waiting_notice(home: ParticipantHome) -> Locator:
    """Why they cannot read what was passed on to them (yet), on their home."""
    return home.page.locator("#key-wait")


def release_refused_because_key_changed(review: ReviewPage) -> str:
    """The review page offers no release to a changed key, and says why: the sentence."""
    reason = review.page.locator("#recipient-key-changed-on")
    expect(reason).to_be_visible()
    approve = review.page.get_by_role("radio", name=re.compile(r"^Approve it and offer it"))
    expect(approve).to_be_disabled()
    expect(review.page.locator("#approve-form")).to_have_count(0)
    review.check()
    return " ".join(reason.inner_text().split())
