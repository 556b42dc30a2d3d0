"""Page objects for letters: the facilitator's cases, queue and review; the participant's home,
composer, letter and inbox pages.

Every method that brings the person somewhere new waits until it is on screen (and, where the
browser unlocks something, until it is unlocked) and runs the accessibility check on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import HomePage, JoinPage, SignInPage
from tests.browser.pages.portal import PortalPage, SignedInPage, path_is, shown_qr

UUID = r"[0-9a-f-]{36}"
# Unlocking keys and letters takes a moment in the browser: allow for a slow machine.
UNLOCK_MS = 20_000


def paragraphs(box: Locator) -> list[str]:
    """The text of each paragraph a letter box shows (lib/dom.js showText)."""
    expect(box.locator("p").first).to_be_visible(timeout=UNLOCK_MS)
    return [text or "" for text in (p.text_content() for p in box.locator("p").all())]


def as_paragraphs(text: str) -> list[str]:
    return [block.strip("\n") for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


# -- the facilitator -------------------------------------------------------------------------


class FacilitatorPage(SignedInPage):
    """A page a facilitator sees: the navigation leads to their cases and the review queue."""

    def opens_cases(self) -> CasesPage:
        self.navigation.get_by_role("link", name="Cases", exact=True).click()
        return CasesPage(self.page).arrived()

    def opens_review_queue(self) -> QueuePage:
        self.navigation.get_by_role("link", name="Review queue").click()
        return QueuePage(self.page).arrived()

    def goes_to_facilitator_home(self) -> FacilitatorHome:
        self.navigation.get_by_role("link", name="Home", exact=True).click()
        return FacilitatorHome(self.page).arrived()

    def lets_read_what_was_written_for(self, side: str) -> CasePage:
        """The task "Let the <side> read what was written for them": its case page, where this
        browser grants it (client/regrants.js)."""
        task = self.page.locator("#written-for").get_by_role(
            "link", name=f"Let the {side} read what was written for them"
        )
        task.click()
        return CasePage(self.page).arrived()

    @property
    def key_handovers(self) -> Locator:
        """The task "Waiting for you to open their case" (home and queue)."""
        return self.page.locator("#key-handovers")

    def opens_case_waiting_for_its_key(self, reference: str) -> CasePage:
        self.key_handovers.get_by_role("link", name=f"Case {reference}").click()
        return CasePage(self.page, reference).arrived()

    @property
    def handed_over(self) -> Locator:
        """ "Cases handed over" (home): where a case I handed over went, or one handed to me."""
        return self.page.locator("#handed-over")

    @property
    def new_case_keys(self) -> Locator:
        """The task "A case needs its new key" (home and queue): a facilitator left one of my
        cases."""
        return self.page.locator("#new-case-keys")

    def opens_case_needing_new_key(self, reference: str) -> CasePage:
        """Open the case from that task: this browser makes the new key by itself."""
        self.new_case_keys.get_by_role("link", name=f"Case {reference}").click()
        case = CasePage(self.page, reference).arrived()
        case.sees_new_key_made()
        return case


class FacilitatorHome(HomePage, FacilitatorPage):
    def arrived(self) -> FacilitatorHome:
        super().arrived()
        return self

    @property
    def declines_to_tell(self) -> Locator:
        return self.page.locator("#declines-to-tell li")

    @property
    def follow_ups(self) -> Locator:
        """The items of "Agreement follow-ups" (partials/follow_ups.html)."""
        return self.page.get_by_role("region", name="Agreement follow-ups").get_by_role("listitem")

    def opens_every_follow_up(self) -> FollowUpsPage:
        self.page.get_by_role("link", name="See every follow-up").click()
        return FollowUpsPage(self.page).arrived()

    def tells_the_writer_of_a_decline(self) -> ReviewPage:
        """Follow the task to the review page and record that its writer was told."""
        self.declines_to_tell.first.get_by_role("link").click()
        review = ReviewPage(self.page).arrived()
        self.page.get_by_role("button", name="I have told its writer").click()
        expect(self.page.locator("#decline-told-text")).to_contain_text("Its writer was told on")
        expect(self.page.locator("#decline-told-text")).to_be_focused()
        return review.check()


def facilitator_signs_in(page: Page, base_url: str, name: str, password: str) -> FacilitatorHome:
    SignInPage.open(page, base_url).signs_in(name, password)
    return FacilitatorHome(page).arrived()


class FollowUpsPage(FacilitatorPage):
    """Every agreement follow-up, a page at a time (templates/cases/follow_ups.html)."""

    heading = "Agreement follow-ups"

    @property
    def items(self) -> Locator:
        return self.page.locator("#follow-ups-list").get_by_role("listitem")


class CasesPage(FacilitatorPage):
    heading = "Your cases"

    def opens_new_case(self, reference: str, label: str) -> CasePage:
        return self.starts_new_case().opens(reference, label)

    def starts_new_case(self) -> NewCasePage:
        self.page.get_by_role("link", name="Open a new case").click()
        return NewCasePage(self.page).arrived()

    def opens_case(self, reference: str) -> CasePage:
        self.page.get_by_role("link", name=reference, exact=True).click()
        return CasePage(self.page, reference).arrived()


class NewCasePage(FacilitatorPage):
    heading = "Open a new case"

    def arrived(self) -> NewCasePage:
        super().arrived()
        return self

    @property
    def reference(self) -> Locator:
        return self.page.get_by_label("Case reference")

    @property
    def label(self) -> Locator:
        return self.page.get_by_label("Short label")

    def submits(self, reference: str, label: str) -> NewCasePage:
        self.reference.fill(reference)
        self.label.fill(label)
        self.page.get_by_role("button", name="Open the case").click()
        return self

    def opens(self, reference: str, label: str) -> CasePage:
        self.submits(reference, label)
        expect(self.page).to_have_url(re.compile(rf"/cases/{UUID}$"), timeout=UNLOCK_MS)
        return CasePage(self.page, reference).arrived()


class AuditTrailPage(FacilitatorPage):
    def __init__(self, page: Page, reference: str) -> None:
        super().__init__(page)
        self.reference = reference

    def arrived(self) -> AuditTrailPage:
        name = f"Audit trail of case {self.reference}"
        expect(self.page.get_by_role("heading", level=1, name=name)).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    @property
    def events(self) -> Locator:
        return self.page.locator("#audit-table tbody tr")

    @property
    def pager(self) -> Locator:
        return self.page.get_by_role("navigation", name="Audit trail, more pages")

    def turns_to(self, words: str) -> AuditTrailPage:
        """Follow the pager's "Later events" or "Earlier events": a plain link, a new page."""
        self.pager.get_by_role("link", name=words, exact=True).click()
        return self.arrived()


@dataclass(frozen=True)
class Invitation:
    code: str
    join_link: str


class CasePage(FacilitatorPage):
    def __init__(self, page: Page, reference: str | None = None) -> None:
        super().__init__(page)
        self.reference = reference

    @classmethod
    def open(cls, page: Page, url: str) -> CasePage:
        page.goto(url)
        return cls(page).arrived()

    @property
    def case_id(self) -> str:
        return self.page.locator("#case").get_attribute("data-case-id") or ""

    @property
    def status_message(self) -> Locator:
        return self.page.locator("#case-status-message")

    def arrived(self) -> CasePage:
        heading = re.compile(rf"^Case {re.escape(self.reference or '')}")
        expect(self.page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        # The participants' names and security numbers are unlocked in the browser, in place.
        expect(self.being_unlocked).to_have_count(0, timeout=UNLOCK_MS)
        self.page.wait_for_load_state("load")
        return self.check()

    @property
    def being_unlocked(self) -> Locator:
        """Sealed things on the page (names, security numbers) the browser has not finished
        with: neither unlocked nor found not to open."""
        return self.page.locator(
            '[data-sealed]:not([data-sealed-state="open"]):not([data-sealed-state="failed"])'
        )

    def participant(self, display_name: str) -> Locator:
        return self.page.get_by_role("region", name=display_name, exact=True)

    def adds_participant(self, side: str, display_name: str) -> None:
        """``side``: "Person harmed" or "Person responsible"."""
        self.page.get_by_role("radio", name=side, exact=True).check()
        self.page.get_by_label("Display name", exact=True).fill(display_name)
        self.page.get_by_role("button", name="Add participant").click()
        expect(self.participant(display_name)).to_be_visible(timeout=UNLOCK_MS)
        expect(self.status_message).to_contain_text("was added as")
        self.check()

    def invites(self, display_name: str) -> Invitation:
        card = self.participant(display_name)
        card.get_by_role("button", name=re.compile(r"^Create an invitation")).click()
        code = card.locator("[data-invitation-code]")
        expect(code).to_be_visible()
        self.check()
        return Invitation(
            code=code.inner_text().strip(),
            join_link=card.locator("[data-join-link]").inner_text().strip(),
        )

    def reloads(self) -> CasePage:
        """Open the page again; joined participants are then given the case key."""
        self.page.reload()
        return self.arrived()

    def sees_case_key_given(self) -> None:
        expect(self.status_message).to_contain_text("this case's key", timeout=UNLOCK_MS)

    def records_consent_to_letters(self, display_name: str) -> None:
        card = self.participant(display_name)
        card.get_by_role("checkbox", name="Letter", exact=True).check()
        card.get_by_role("button", name=re.compile(r"^Record consent")).click()
        expect(self.status_message).to_have_text(
            f"Consent recorded for {display_name}: Letter.", timeout=UNLOCK_MS
        )
        expect(card.locator('[data-fact="consent"]')).to_contain_text("Letter")
        self.check()

    def security_number_of(self, display_name: str) -> str:
        return self.participant(display_name).locator("[data-fingerprint]").inner_text()

    def security_qr_of(self, display_name: str) -> str:
        return shown_qr(self.participant(display_name).locator("details.qr"))

    def compared_in_person(self, display_name: str) -> None:
        # The participant's own number: their supporters' cards come after it, inside theirs.
        card = self.participant(display_name).locator('[data-part="security"]').first
        card.get_by_role("button", name=re.compile(r"^We compared this number in person")).click()
        expect(card).to_have_attribute("data-key-status", "verified", timeout=UNLOCK_MS)
        self.check()

    def pauses(self) -> None:
        self.page.get_by_role("button", name="Pause the case").click()
        expect(self.page.locator("#case-status-text")).to_have_text("paused")
        expect(self.page.get_by_role("button", name="Resume the case")).to_be_focused()
        self.check()

    def resumes(self) -> None:
        self.page.get_by_role("button", name="Resume the case").click()
        expect(self.page.locator("#case-status-text")).to_have_text("open")
        self.check()

    @property
    def team(self) -> Locator:
        return self.page.locator("#team-list")

    def adds_colleague(self, name: str) -> None:
        """Add a certified colleague to the case: this browser checks their certificate in the
        trust log and gives them the case's key; the team list shows them at once."""
        self.page.get_by_label("Add a colleague to this case").select_option(label=name)
        self.page.get_by_role("button", name="Add to this case").click()
        expect(self.status_message).to_contain_text(f"{name} now works on this case")
        expect(self.team).to_contain_text(f"{name}, added by")
        self.check()

    def hands_over_to(self, name: str) -> FacilitatorHome:
        """Hand the case to a certified colleague and leave it, answering the question: this
        browser gives them the case's key; the facilitator lands on their home."""
        self.page.get_by_text("Hand this case over to a colleague").click()
        self.page.get_by_label("Colleague who takes over").select_option(label=name)
        self.check()
        self.page.get_by_role("button", name="Hand over and leave").click()
        question = self.page.get_by_role("dialog", name="Hand this case over?")
        expect(question).to_be_visible()
        self.check()
        question.get_by_role("button", name="Hand over and leave").click()
        return FacilitatorHome(self.page).arrived()

    def removes_colleague(self, name: str) -> None:
        """Take a colleague off the case, answering the question; this browser then makes the
        case's new key at once."""
        self.team.get_by_role("button", name=f"Remove {name} from this case").click()
        question = self.page.get_by_role("dialog", name=f"Remove {name} from this case?")
        expect(question).to_be_visible()
        self.check()
        question.get_by_role("button", name="Remove from this case").click()
        expect(self.team).not_to_contain_text(f"{name},")
        self.sees_new_key_made()
        self.check()

    def sees_new_key_made(self) -> None:
        """After a facilitator left, this browser made the case's next key epoch."""
        expect(self.status_message).to_contain_text(
            "Your browser made this case's new key", timeout=UNLOCK_MS
        )
        expect(self.page.locator("#new-key-notice")).to_be_hidden()

    def marks_high_risk(self, reason: str) -> None:
        """Mark the case high-risk for ``reason`` ("Sexual harm", ...): two facilitators must
        approve everything from now; the section says so and the page's status tells it."""
        section = self.page.locator("#high-risk-section")
        section.get_by_role("radio", name=reason).check()
        section.get_by_role("button", name="Mark as high-risk").click()
        expect(self.page.locator("#high-risk-text")).to_contain_text(
            f"This case is high-risk ({reason.lower()})"
        )
        expect(self.status_message).to_contain_text("two facilitators' approval")
        expect(self.page.get_by_role("heading", name="Two-person approval")).to_be_focused()
        self.check()

    def opens_audit_trail(self) -> AuditTrailPage:
        self.page.get_by_role("link", name="Audit trail").click()
        return AuditTrailPage(self.page, self.reference or "").arrived()

    def starts_closing_but_keeps_it_open(self) -> None:
        self.page.get_by_label("Why it is closing").select_option(label="No contact could be made")
        self.page.get_by_role("button", name="Close the case").click()
        question = self.page.get_by_role("dialog", name="Close this case?")
        expect(question).to_be_visible()
        question.get_by_role("button", name="Keep it open").click()
        expect(question).to_be_hidden()
        expect(self.page.get_by_role("button", name="Close the case")).to_be_focused()

    def records_stage(self, stage: str) -> None:
        """Record that the case reached ``stage`` today (the form's day)."""
        self.page.get_by_label("The case has reached").select_option(label=stage)
        self.page.get_by_role("button", name="Record the stage").click()
        expect(self.page.locator("#path-stage-text")).to_contain_text(stage)
        expect(self.status_message).to_have_text(f"The case is now at {stage.lower()}.")
        expect(self.page.get_by_role("heading", name="Stage")).to_be_focused()
        self.check()

    def closes(self, why: str = "Completed") -> None:
        """Close the case for a reason, answering its question: closing is final."""
        self.page.get_by_label("Why it is closing").select_option(label=why)
        self.page.get_by_role("button", name="Close the case").click()
        question = self.page.get_by_role("dialog", name="Close this case?")
        expect(question).to_be_visible()
        self.check()
        question.get_by_role("button", name="Yes, close the case").click()
        expect(self.page.locator("#case-status-text")).to_have_text("closed")
        expect(self.status_message).to_have_text("The case is closed.")
        expect(self.page.get_by_role("heading", name="Status")).to_be_focused()
        self.check()


class QueuePage(FacilitatorPage):
    heading = "Review queue"

    @property
    def items(self) -> Locator:
        return self.page.locator("#queue-items")

    @property
    def nothing_shown(self) -> Locator:
        return self.page.locator("#queue-empty")

    def item(self, message_id: str) -> Locator:
        return self.items.locator(f'[data-message-id="{message_id}"]')

    def reloads(self) -> QueuePage:
        self.page.reload()
        return self.arrived()

    def shows_only(self, *, format_: str) -> None:
        """Filter by format ("All formats", "Video recording", ...): the list is swapped in
        place, and the page says what it shows."""
        self.page.get_by_label("Format").select_option(label=format_)
        self.page.get_by_role("button", name="Show", exact=True).click()
        expect(self.page.locator("#queue-status")).not_to_be_empty()
        expect(self.page.get_by_role("button", name="Show", exact=True)).to_be_visible()
        self.check()

    @property
    def pager(self) -> Locator:
        return self.page.get_by_role("navigation", name="Review queue, more pages")

    @property
    def rows(self) -> Locator:
        return self.items.locator("tbody tr")

    def turns_to(self, words: str) -> None:
        """Follow the pager's "Later items" or "Earlier items": the list is swapped in place
        with htmx (the address stays), and the page says in its status region what is shown."""
        before = self.page.locator("#queue-status").text_content()
        self.pager.get_by_role("link", name=words, exact=True).click()
        expect(self.page.locator("#queue-status")).not_to_have_text(before or "")
        self.check()

    def fits_the_screen(self) -> None:
        """Nothing of the list is off screen: no sideways scrolling, every fact in view."""
        width = self.page.viewport_size["width"] if self.page.viewport_size else 0
        assert self.page.evaluate("document.documentElement.scrollWidth") <= width
        for cell in self.items.locator("td").all():
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] >= 0, cell.inner_text()
            assert box["x"] + box["width"] <= width, cell.inner_text()

    def reviews_oldest(self, what: str = "a letter") -> ReviewPage:
        """Start reviewing the oldest waiting item (``what`` it is: "a letter", "a video
        recording"...): it is claimed, and its review page opens."""
        start = self.items.get_by_role("button", name=re.compile(r"^Start reviewing"))
        start.first.click()
        expect(self.page).to_have_url(re.compile(rf"/review/{UUID}$"), timeout=UNLOCK_MS)
        review = ReviewPage(self.page, what).arrived()
        expect(review.decision.get_by_role("heading", name="Your decision")).to_be_visible()
        return review


class ReviewPage(FacilitatorPage):
    """The review of one message, named by what it is ("Review a video recording")."""

    def __init__(self, page: Page, what: str = "a letter") -> None:
        super().__init__(page)
        self.what = what

    @classmethod
    def open(cls, page: Page, url: str, what: str = "a letter") -> ReviewPage:
        page.goto(url)
        return cls(page, what).arrived()

    @property
    def content(self) -> Locator:
        return self.page.locator("#letter-content")

    def arrived(self) -> Self:
        heading = self.page.get_by_role("heading", level=1, name=f"Review {self.what}", exact=True)
        expect(heading).to_be_visible()
        # The message is opened (or refused) in the browser before anything is decided.
        expect(self.content).to_have_attribute(
            "data-sealed-state", re.compile(r"^(open|failed)$"), timeout=UNLOCK_MS
        )
        expect(self.decision).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    @property
    def decision(self) -> Locator:
        """What can be done now, as the server rendered it."""
        return self.page.locator("#review-decision")

    def offers_it_again(self) -> Self:
        """A held message: offer it to the recipient again; the page says so where it was."""
        self.decision.get_by_role("button", name="Offer it again").click()
        expect(self.page.get_by_role("heading", name="No decision to make")).to_be_focused()
        return self.check()

    def letter_text(self) -> str:
        box = self.page.locator("#letter-text")
        expect(box).to_be_visible()
        return box.text_content() or ""

    def earlier_feedback(self) -> str:
        box = self.page.locator("#feedback-text")
        expect(box).to_have_attribute("data-sealed-state", "open", timeout=UNLOCK_MS)
        return box.text_content() or ""

    def _decides(self, choice: str, field: str | None, text: str | None, yes: str) -> QueuePage:
        self.page.get_by_role("radio", name=choice).check()
        if field is not None and text is not None:
            self.page.get_by_label(field).fill(text)
        # Back to the choice before the check: filling a field far below can leave the radios
        # just under the sticky quick exit bar, which axe takes for a target too small.
        self.page.get_by_role(
            "group", name=re.compile(r"^What would you like to do")
        ).scroll_into_view_if_needed()
        self.check()
        self.page.get_by_role("button", name="Continue", exact=True).click()
        confirm = self.page.get_by_role("dialog").get_by_role("button", name=yes)
        expect(confirm).to_be_visible()
        self.check()
        confirm.click()
        expect(self.page).to_have_url(path_is("/queue"), timeout=UNLOCK_MS)
        return QueuePage(self.page).arrived()

    def returns_with_feedback(self, feedback: str) -> QueuePage:
        return self._decides(
            "Return it to the writer for changes",
            "Feedback for the writer",
            feedback,
            "Yes, return it",
        )

    def approves_first(self, note: str | None = None) -> QueuePage:
        """A high-risk case: the first of two approvals, with a note for the second facilitator.
        Nothing is offered to the recipient yet."""
        return self._decides(
            "Approve it: a second facilitator must approve it too",
            "Note for the second facilitator (optional)",
            note,
            "Yes, approve it",
        )

    def first_approval_note(self) -> str:
        box = self.page.locator("#first-approval-note")
        expect(box).to_have_attribute("data-sealed-state", "open", timeout=UNLOCK_MS)
        return box.text_content() or ""

    def gives_second_approval(self, note: str | None = None) -> QueuePage:
        """The second approval: this browser makes the recipient's grant, as a single approval
        does. The recipient's security number was not compared from this account, so the
        facilitator says they approve anyway."""
        choice = "Give the second approval and offer it to the recipient"
        self.page.get_by_role("radio", name=choice).check()
        understood = self.page.get_by_label("I understand, and I want to approve it anyway")
        expect(understood).to_be_visible(timeout=UNLOCK_MS)
        understood.check()
        return self._decides(choice, "Note for the recipient (optional)", note, "Yes, approve it")

    def starts_reviewing(self) -> Self:
        """ "Start reviewing" on the review page itself: the decisions are offered then."""
        self.decision.get_by_role("button", name="Start reviewing").click()
        expect(self.decision.get_by_role("heading", name="Your decision")).to_be_visible(
            timeout=UNLOCK_MS
        )
        return self.arrived()

    def approves_anyway(self, note: str | None = None) -> QueuePage:
        """Approve although the recipient's security number was not compared from this
        account: the facilitator says they understand."""
        choice = "Approve it and offer it to the recipient"
        self.page.get_by_role("radio", name=choice).check()
        understood = self.page.get_by_label("I understand, and I want to approve it anyway")
        expect(understood).to_be_visible(timeout=UNLOCK_MS)
        understood.check()
        return self._decides(choice, "Note for the recipient (optional)", note, "Yes, approve it")

    def approves(self, note: str | None = None) -> QueuePage:
        # Both keys were compared in person: no "I understand" box to tick.
        self.page.get_by_role("radio", name="Approve it and offer it to the recipient").check()
        verified = self.page.locator("#recipient-key-verified")
        expect(verified).to_be_visible(timeout=UNLOCK_MS)
        expect(verified).to_contain_text("compared")
        expect(self.page.locator("#key-understood")).to_be_hidden()
        return self._decides(
            "Approve it and offer it to the recipient",
            "Note for the recipient (optional)",
            note,
            "Yes, approve it",
        )


class NotFoundPage(PortalPage):
    heading = "We could not find that page"

    def visit_expecting_404(self, url: str) -> NotFoundPage:
        response = self.page.goto(url)
        assert response is not None
        assert response.status == 404
        return self.arrived()


# -- the participant -------------------------------------------------------------------------


class ParticipantHome(HomePage):
    def arrived(self) -> ParticipantHome:
        expect(self.page).to_have_url(path_is("/home"))
        expect(self.page.get_by_role("heading", level=1, name=self.heading)).to_be_visible()
        expect(self.page.locator("#case-context")).to_have_attribute(
            "aria-busy", "false", timeout=UNLOCK_MS
        )
        self.page.wait_for_load_state("load")
        self.check()
        return self

    def reloads(self) -> ParticipantHome:
        self.page.reload()
        return self.arrived()

    @property
    def waiting_items(self) -> Locator:
        return self.page.locator("#waiting-items li")

    def facilitator_security_number(self) -> str:
        return self.page.locator("#facilitator-fingerprint").inner_text()

    def facilitator_security_qr(self) -> str:
        return shown_qr(self.page.locator("#facilitator-qr"))

    def starts_letter(self) -> ComposePage:
        self.page.get_by_role("link", name="Write a letter").click()
        return ComposePage(self.page).arrived()

    def opens_letter(self) -> LetterPage:
        self.page.locator("#my-letters").get_by_role("link").first.click()
        return LetterPage(self.page).arrived()

    def sees_choices_for_waiting_item(self) -> InboxPage:
        self.page.locator("#waiting-items").get_by_role("link", name="See your choices").click()
        return InboxPage(self.page).arrived()

    def goes_to_opened_item(self) -> InboxPage:
        self.page.locator("#waiting-items").get_by_role("link", name="Go to it again").click()
        return InboxPage(self.page).arrived()


def participant_joins(page: Page, join_link: str, name: str, password: str) -> ParticipantHome:
    join = JoinPage.open(page, join_link)
    join.joins(name, password)
    join.continues()
    return ParticipantHome(page).arrived()


def participant_signs_in(page: Page, base_url: str, name: str, password: str) -> ParticipantHome:
    SignInPage.open(page, base_url).signs_in(name, password)
    return ParticipantHome(page).arrived()


class ComposePage(SignedInPage):
    heading = "Write a letter"

    @property
    def letter_box(self) -> Locator:
        return self.page.get_by_role("textbox", name="Your letter")

    def arrived(self) -> Self:
        super().arrived()
        expect(self.letter_box).to_be_visible(timeout=UNLOCK_MS)
        return self.check()

    def writes(self, text: str) -> None:
        self.letter_box.fill(text)
        expect(self.page.locator("#save-status")).not_to_be_empty(timeout=UNLOCK_MS)

    def sends(self) -> LetterPage:
        self.page.get_by_role("button", name="Send to your facilitator").click()
        yes = self.page.get_by_role("button", name="Yes, send it to my facilitator")
        expect(yes).to_be_visible()
        self.check()
        yes.click()
        expect(self.page).to_have_url(re.compile(rf"/letters/{UUID}$"), timeout=UNLOCK_MS)
        return LetterPage(self.page).arrived()


class RevisePage(ComposePage):
    heading = "Make changes to your letter"

    def feedback(self) -> list[str]:
        return paragraphs(self.page.locator("#feedback-text"))


class LetterPage(SignedInPage):
    """The author's page for one message, named by what it is: "Your letter", "Your video
    recording", "Your scanned pages"..."""

    named = re.compile(r"^Your (letter|audio recording|video recording|scanned pages)$")

    def arrived(self) -> Self:
        expect(self.page.get_by_role("heading", level=1, name=self.named)).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    @property
    def where_it_is(self) -> Locator:
        return self.page.locator("#letter-state")

    def timeline(self) -> list[str]:
        return [
            label.strip()
            for label in self.page.locator("#timeline li .timeline-label").all_inner_texts()
        ]

    def reloads(self) -> LetterPage:
        self.page.reload()
        return self.arrived()

    def reads_what_i_wrote(self) -> list[str]:
        """ "Show my letter": the paragraphs, once opened and checked in this browser."""
        button = self.page.locator("#show-letter")
        expect(button).not_to_have_attribute("aria-disabled", "true", timeout=UNLOCK_MS)
        button.click()
        mine = self.page.locator("#my-letter")
        expect(mine).to_be_visible(timeout=UNLOCK_MS)
        self.check()
        return paragraphs(mine)

    def makes_changes(self) -> RevisePage:
        self.page.get_by_role("link", name="Make changes").click()
        return RevisePage(self.page).arrived()

    @property
    def written_for_me_label(self) -> Locator:
        return self.page.locator("#letter-on-behalf")

    def reads_what_was_written_for_me(self) -> list[str]:
        """ "Show the letter" on a letter written on my behalf, once a facilitator's browser
        let me read it: its paragraphs, opened and checked in my browser."""
        show = self.page.get_by_role("button", name=re.compile(r"^Show the "))
        expect(show).to_be_enabled(timeout=UNLOCK_MS)
        show.click()
        words = paragraphs(self.page.locator("#my-letter"))
        self.check()
        return words

    def withdraws(self) -> LetterPage:
        """ "Withdraw this letter" (or this video recording...), and yes: the page again."""
        self.page.get_by_role("button", name=re.compile(r"^Withdraw (this|these) ")).click()
        yes = self.page.get_by_role("button", name=re.compile(r"^Yes, withdraw (this|these) "))
        expect(yes).to_be_visible()
        self.check()
        yes.click()
        expect(self.where_it_is).to_have_text(re.compile("withdrawn", re.IGNORECASE))
        return self.arrived()


class InboxPage(SignedInPage):
    """Something passed on to the participant: the notice, the facilitator's note, the choices
    the server offers now, and what they chose to open."""

    heading = "Something for you"

    @property
    def note_box(self) -> Locator:
        return self.page.locator("#note-text")

    @property
    def open_choice(self) -> Locator:
        return self.page.locator("#choice-open")

    @property
    def alert(self) -> Locator:
        """What the page says when opening was refused."""
        return self.open_choice.get_by_role("alert")

    @property
    def opened_text(self) -> Locator:
        return self.page.locator("#opened-text")

    @property
    def choices(self) -> Locator:
        """The buttons the page offers for it now."""
        return self.page.locator("#choices").get_by_role("button")

    def note(self) -> list[str]:
        """The facilitator's note, once it is unlocked and checked in this browser."""
        expect(self.note_box).to_have_attribute("data-sealed-state", "open", timeout=UNLOCK_MS)
        return paragraphs(self.note_box)

    def opens_it_now(self, *, tell_writer: bool = False) -> list[str]:
        """Open it; the paragraphs shown."""
        self.page.get_by_role("checkbox", name="Let the writer know I have opened it").set_checked(
            tell_writer
        )
        self.page.get_by_role("button", name="Open it now").click()
        expect(self.opened_text).to_be_visible(timeout=UNLOCK_MS)
        self.check()
        return paragraphs(self.opened_text)

    def tries_to_open_it(self) -> str:
        """Open it while that is refused; the sentence the alert says."""
        self.page.get_by_role("button", name="Open it now").click()
        expect(self.alert).not_to_be_empty(timeout=UNLOCK_MS)
        expect(self.page.get_by_role("button", name="Open it now")).to_be_enabled()
        self.check()
        return self.alert.inner_text()

    @property
    def page_alert(self) -> Locator:
        """What the page says about opening once the server has handed it over."""
        return self.page.locator("#inbox-alert")

    def opens_it_but_it_cannot_be_shown(self) -> str:
        """Open it when this browser then cannot show it; the sentence the page says."""
        self.page.get_by_role("button", name="Open it now").click()
        expect(self.page_alert).not_to_be_empty(timeout=UNLOCK_MS)
        expect(self.opened_text).to_be_hidden()
        expect(self.opened_text).to_be_empty()
        self.check()
        return self.page_alert.inner_text()

    def tries_again(self) -> list[str]:
        self.page.get_by_role("button", name="Try again").click()
        expect(self.opened_text).to_be_visible(timeout=UNLOCK_MS)
        expect(self.page_alert).to_be_empty()
        self.check()
        return paragraphs(self.opened_text)

    def reads_it_again(self) -> list[str]:
        self.page.get_by_role("button", name="Read it again").click()
        expect(self.opened_text).to_be_visible(timeout=UNLOCK_MS)
        self.check()
        return paragraphs(self.opened_text)

    def not_yet(self) -> ParticipantHome:
        self.page.get_by_role("button", name="Not yet").click()
        return ParticipantHome(self.page).arrived()

    def asks_to_hold_it(self) -> ParticipantHome:
        self.page.get_by_role("button", name="Ask my facilitator to hold it").click()
        return ParticipantHome(self.page).arrived()

    def declines(self) -> ParticipantHome:
        self.page.get_by_role("button", name="I do not want to receive it").click()
        question = self.page.get_by_role(
            "dialog", name="Are you sure you do not want to receive it?"
        )
        expect(question).to_be_visible()
        self.check()
        question.get_by_role("button", name="Yes, I do not want to receive it").click()
        return ParticipantHome(self.page).arrived()

    def goes_back_from_declining(self) -> None:
        """Start to decline, then change their mind in the confirm step."""
        self.page.get_by_role("button", name="I do not want to receive it").click()
        question = self.page.get_by_role(
            "dialog", name="Are you sure you do not want to receive it?"
        )
        expect(question).to_be_visible()
        question.get_by_role("button", name="Go back").click()
        expect(question).to_be_hidden()
