"""Joining with an invitation (/join) or creating the first account with the setup link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Self

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.home import HomePage
from tests.browser.pages.recovery_code import RecoveryCodeSteps

SECURITY_NUMBER = re.compile(r"^\d{5}( \d{5}){11}$")


@dataclass(frozen=True)
class Joined:
    """What a person who has just joined holds: their recovery code and security number."""

    recovery_code: str
    security_number: str


class JoinPage(RecoveryCodeSteps):
    heading = "Join the portal"
    code_label: ClassVar[str] = "Invitation code"
    # The name chosen, for the authenticator app staff add next (tests/support/second_factor.py).
    joined_name: str = ""

    @classmethod
    def open(cls, page: Page, url: str) -> Self:
        """Open ``url``: /join, or a link whose fragment carries the code (then it is checked
        at once, and the person lands on the next step or sees why the code is refused)."""
        page.goto(url)
        join = cls(page)
        if "#" not in url:
            return join.arrived()
        # The code is being checked: the step that follows is checked by the caller's next call.
        expect(page.get_by_role("heading", level=1, name=cls.heading)).to_be_visible()
        return join

    @property
    def code_field(self) -> Locator:
        return self.page.get_by_label(self.code_label, exact=True)

    @property
    def name_field(self) -> Locator:
        return self.page.get_by_label("Sign-in name")

    def enters_code(self, code: str) -> Self:
        self.code_field.fill(code)
        self.page.get_by_role("button", name="Continue", exact=True).click()
        return self

    def is_asked_how_to_sign_in(self) -> str:
        """Wait for the name-and-password step; the role the invitation is for."""
        expect(self.page.get_by_role("heading", name="Choose how you will sign in")).to_be_visible()
        self.check()
        role = self.page.locator("#join-role")
        expect(role).not_to_be_empty()
        return role.inner_text()

    def is_told_code_is_refused(self) -> str:
        """Wait for the error read with the code field; the sentence."""
        expect(self.code_field).to_have_accessible_description(re.compile("not valid"))
        expect(self.code_field).to_have_attribute("aria-invalid", "true")
        self.check()
        return self.page.locator("#invitation-code-error").inner_text()

    def is_told_invitation_is_not_genuine(self) -> str:
        """Wait for the refusal of an invitation whose MAC does not match (docs/api-trust.md):
        said in the code step's alert, with no name-and-password step offered; the sentence."""
        alert = self.page.get_by_role("alert").filter(has_text="could not be confirmed")
        expect(alert).to_be_visible()
        expect(self.code_field).to_be_visible()
        expect(self.page.get_by_role("heading", name="Choose how you will sign in")).to_be_hidden()
        expect(self.name_field).to_be_hidden()
        expect(self.page.get_by_label("Password", exact=True)).to_be_hidden()
        self.check()
        return alert.inner_text()

    def chooses_name_and_password(self, name: str, password: str) -> Self:
        self.joined_name = name
        self.name_field.fill(name)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_label("Type the password again").fill(password)
        self.page.get_by_role("button", name="Continue", exact=True).click()
        return self

    def is_told_name_is_taken(self) -> str:
        """Back at the details step, asked only for another name; the sentence at the field."""
        expect(self.name_field).to_have_accessible_description(re.compile("already taken"))
        expect(self.name_field).to_have_attribute("aria-invalid", "true")
        keeping = self.page.get_by_text("Your password and recovery code stay as they are.")
        expect(keeping).to_be_visible()
        # The password was used up to make the keys: it is not asked for again.
        expect(self.page.get_by_label("Password", exact=True)).to_be_hidden()
        self.check()
        return self.page.locator("#sign-in-name-error").inner_text()

    def chooses_another_name(self, name: str) -> Self:
        self.joined_name = name
        self.name_field.fill(name)
        self.page.get_by_role("button", name="Continue", exact=True).click()
        return self

    def sees_account_ready(self) -> str:
        """Wait for the last step; the security number shown."""
        expect(self.page.get_by_role("heading", name="Your account is ready")).to_be_visible()
        self.check()
        number = self.page.locator("#account-fingerprint")
        expect(number).to_have_text(SECURITY_NUMBER)
        return number.inner_text()

    @property
    def new_key_notice(self) -> Locator:
        """After a code for a new key: what it changes (hidden after an ordinary invitation)."""
        return self.page.locator("#rekey-done")

    def continues(self) -> HomePage:
        """On to the home page; staff add an authenticator app first (they reach nothing
        before they hold a second factor)."""
        from tests.browser.pages.second_factor import SecondFactorPage

        self.page.get_by_role("button", name="Continue", exact=True).click()
        expect(self.page).to_have_url(re.compile(r"/(home|account/second-factor)$"))
        if self.page.url.endswith("/account/second-factor"):
            return (
                SecondFactorPage(self.page)
                .arrived()
                .adds_authenticator_app(self.joined_name)
                .goes_home()
            )
        return HomePage(self.page).arrived()

    def joins(self, name: str, password: str) -> Joined:
        """From the name-and-password step to "Your account is ready"."""
        self.is_asked_how_to_sign_in()
        self.chooses_name_and_password(name, password)
        code = self.saves_recovery_code()
        return Joined(recovery_code=code, security_number=self.sees_account_ready())


class SetupPage(JoinPage):
    """The same flow, opened with the setup link the server prints on first run."""

    heading = "Create the service manager account"
    code_label = "Setup code"
