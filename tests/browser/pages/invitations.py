"""Staff invite people: a one-time code and a link that carries it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import expect

from tests.browser.pages.portal import SignedInPage


@dataclass(frozen=True)
class IssuedInvitation:
    code: str
    join_link: str


class InvitationsPage(SignedInPage):
    heading = "Invitations"

    def roles_offered(self) -> list[str]:
        group = self.page.get_by_role("group", name="Invite someone as")
        return [label.strip() for label in group.locator("label").all_inner_texts()]

    def invites(self, role: str) -> IssuedInvitation:
        """Create an invitation for ``role`` (as labelled on the page, e.g. "Facilitator")."""
        group = self.page.get_by_role("group", name="Invite someone as")
        group.get_by_role("radio", name=role, exact=True).check()
        self.page.get_by_role("button", name="Create invitation").click()
        ready = self.page.get_by_role("heading", name=f"Invitation ready for a {role.lower()}")
        expect(ready).to_be_visible()
        self.check()
        return IssuedInvitation(
            code=self.page.locator("[data-invitation-code]").inner_text().strip(),
            join_link=self.page.locator("[data-join-link]").inner_text().strip(),
        )

    def tries_to_withdraw_newest(self) -> str:
        """Withdraw the newest waiting invitation and be refused: the sentence in its row."""
        form = self.page.get_by_role("table").locator("form").first
        form.get_by_role("button", name=re.compile(r"^Withdraw")).click()
        alert = form.get_by_role("alert")
        expect(alert).not_to_be_empty()
        expect(self.page.get_by_role("heading", level=1, name=self.heading)).to_be_visible()
        self.check()
        return alert.inner_text()
