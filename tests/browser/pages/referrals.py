"""Referrals: the service manager's Referrals page, and the public pages a partner agency or
someone referring themself uses without an account."""

from __future__ import annotations

import re
from typing import Self

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.letters import NewCasePage
from tests.browser.pages.portal import PortalPage, SignedInPage

# Making keys and walking the trust log on a busy 2-core machine.
SEALING_MS = 60_000


class ReferralsPage(SignedInPage):
    heading = "Referrals"

    @classmethod
    def opened_from_home(cls, home: SignedInPage) -> ReferralsPage:
        home.page.get_by_role("main").get_by_role("link", name="Referrals").click()
        return cls(home.page).arrived()

    @property
    def said(self) -> Locator:
        return self.page.locator("#referrals-said")

    def sets_up_referrals(self) -> Self:
        button = self.page.get_by_role("button", name="Set up referrals")
        expect(button).to_be_enabled()
        button.click()
        expect(self.said).to_have_text(
            "Referrals are set up. The public pages now take referrals sealed to this key.",
            timeout=SEALING_MS,
        )
        return self.check()

    def lets_read_referrals(self, name: str) -> Self:
        self.page.get_by_label("Let a facilitator read referrals").select_option(label=name)
        button = self.page.get_by_role("button", name="Let them read referrals")
        expect(button).to_be_enabled()
        button.click()
        expect(self.said).to_have_text(f"{name} can now read referrals.", timeout=SEALING_MS)
        return self.check()

    def readers(self) -> list[str]:
        items = self.page.locator("#referral-readers > li")
        return [text.split("\n")[0].strip() for text in items.all_inner_texts()]


class ReferralSent(PortalPage):
    """The confirmation swapped in place of the form."""

    @property
    def reference(self) -> str:
        return self.page.locator("#referral-reference").inner_text()


class _PublicReferral(PortalPage):
    path = ""

    @classmethod
    def open(cls, page: Page, base_url: str) -> Self:
        page.goto(base_url + cls.path)
        return cls(page).arrived()

    def service_number(self) -> str:
        """The service's security number this browser worked out from the trust log."""
        number = self.page.locator("[data-root-number]")
        expect(number).to_have_text(re.compile(r"\d{5}"), timeout=SEALING_MS)
        return number.inner_text()

    def sends(self, button: str) -> ReferralSent:
        send = self.page.get_by_role("button", name=button)
        expect(send).to_be_enabled()
        send.click()
        heading = self.page.get_by_role("heading", name=re.compile(r"^Thank you\."))
        expect(heading).to_be_visible(timeout=SEALING_MS)
        return ReferralSent(self.page).check()


class ReferPage(_PublicReferral):
    heading = "Refer someone"
    path = "/refer"

    def refers(
        self,
        *,
        organisation: str,
        referrer: str,
        contact: str,
        side: str,
        person: str,
        what_happened: str,
        risks: str = "",
    ) -> ReferralSent:
        form = self.page.locator("#refer-form")
        form.get_by_label("Your organisation is").select_option(label=organisation)
        form.get_by_label("Your name").fill(referrer)
        form.get_by_label("How we can contact you").fill(contact)
        form.get_by_label("They are").select_option(label=side)
        form.get_by_label("Their name").fill(person)
        form.get_by_label("In brief, what happened").fill(what_happened)
        form.get_by_label("Any risks we should know about").fill(risks)
        return self.sends("Send the referral")

    def tries_to_send_empty(self) -> str:
        self.page.get_by_role("button", name="Send the referral").click()
        alert = self.page.locator("#refer-alert")
        expect(alert).not_to_be_empty()
        return alert.inner_text()


class SelfReferPage(_PublicReferral):
    heading = "Talk to us in confidence"
    path = "/refer/self"

    def asks_in_confidence(
        self, *, name: str, contact: str, safe: str, message: str
    ) -> ReferralSent:
        form = self.page.locator("#refer-form")
        form.get_by_label("What should we call you?").fill(name)
        form.get_by_label("How can we contact you?").fill(contact)
        form.get_by_label("When and how is it safe to contact you?").fill(safe)
        form.get_by_label("Anything you would like to tell us now (optional)").fill(message)
        return self.sends("Send in confidence")


class ReferralsInbox(SignedInPage):
    heading = "Referrals received"

    @classmethod
    def open(cls, page: Page, base_url: str) -> ReferralsInbox:
        page.goto(base_url + "/referrals/inbox")
        return cls(page).arrived()

    def opens(self, reference: str) -> ReferralOpened:
        self.page.get_by_role("link", name=reference, exact=True).click()
        return ReferralOpened(self.page, reference).arrived()


class ReferralOpened(SignedInPage):
    def __init__(self, page: Page, reference: str) -> None:
        super().__init__(page)
        self.reference = reference

    def arrived(self) -> Self:
        heading = self.page.get_by_role("heading", level=1, name=f"Referral {self.reference}")
        expect(heading).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    def unlocked(self) -> Self:
        expect(self.page.get_by_role("status")).to_have_text(
            "Unlocked in your browser.", timeout=SEALING_MS
        )
        return self.check()

    def shows(self, words: str, text: str) -> None:
        """What the referral says under ``words`` (the field's name on the page)."""
        field = self.page.locator("dt", has_text=words).first.locator(
            "xpath=following-sibling::dd[1]"
        )
        expect(field).to_have_text(text)

    def state(self) -> str:
        return self.page.locator("#referral-state").inner_text()

    def accepts_for(self, facilitator: str) -> Self:
        """Accept the referral to ``facilitator``: the browser shares it with them."""
        form = self.page.locator("#accept-form")
        form.get_by_label("The facilitator who will hold the case").select_option(label=facilitator)
        form.get_by_role("button", name="Accept the referral").click()
        expect(self.page.locator("#triage-said")).to_contain_text(
            f"Accepted. {facilitator} will find it", timeout=SEALING_MS
        )
        return self.check()

    def asks_for_more(self, note: str) -> Self:
        """Record that more information was asked for, with a note sealed for colleagues."""
        form = self.page.locator("#ask-more-form")
        form.get_by_label("A note for colleagues who read referrals (optional)").fill(note)
        form.get_by_role("button", name="Record that we asked for more").click()
        expect(self.page.locator("#triage-said")).to_contain_text(
            "Recorded that more information was asked for", timeout=SEALING_MS
        )
        return self.check()

    def note(self) -> Locator:
        """A triage note, unlocked in this browser."""
        return self.page.locator('[data-sealed="referral-note"]').first

    def opens_case_from_it(self) -> NewCasePage:
        self.page.get_by_role("link", name="Open a case from this referral").click()
        return NewCasePage(self.page).arrived()


def referral_to_open_from_home(home: SignedInPage, reference: str) -> ReferralOpened:
    """The facilitator follows "A referral to open as a case" on their home."""
    section = home.page.locator("#referrals-to-open")
    expect(section.get_by_role("heading", name="A referral to open as a case")).to_be_visible()
    section.get_by_role("link", name=reference, exact=True).click()
    return ReferralOpened(home.page, reference).arrived()
