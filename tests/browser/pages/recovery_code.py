"""Saving a new recovery code and typing two of its groups back (joining and recovering)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.pages.portal import PortalPage

GROUPS = 13
RECOVERY_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){12}$")


class RecoveryCodeSteps(PortalPage):
    """The two steps of templates/partials/recovery_code.html."""

    def is_shown_recovery_code(self) -> str:
        """Wait for the code; read it as written on screen, ``XXXX-XXXX-...``."""
        heading = self.page.get_by_role("heading", name="Save your recovery code")
        # Deriving keys takes a moment: allow for a slow machine.
        expect(heading).to_be_visible(timeout=30_000)
        self.check()
        groups = self.page.locator("#recovery-code .group-text").all_inner_texts()
        code = "-".join(group.strip() for group in groups)
        assert RECOVERY_CODE.fullmatch(code), f"not a recovery code: {code!r}"
        return code

    def has_saved_recovery_code(self, code: str) -> None:
        """Say the code is saved, then type the two groups the page asks for, from ``code``."""
        self.page.get_by_role("button", name="I have saved my recovery code").click()
        expect(self.page.get_by_role("heading", name="Check your recovery code")).to_be_visible()
        self.check()
        groups = code.split("-")
        asked = [
            number
            for number in range(1, GROUPS + 1)
            if self.page.get_by_label(f"Group {number}", exact=True).count()
        ]
        assert len(asked) == 2, f"the page should ask for two groups, it asks for {asked}"
        for number in asked:
            self.page.get_by_label(f"Group {number}", exact=True).fill(groups[number - 1])
        self.page.get_by_role("button", name="Check and continue").click()

    def saves_recovery_code(self) -> str:
        """Read the new code, save it and check it; the code."""
        code = self.is_shown_recovery_code()
        self.has_saved_recovery_code(code)
        return code
