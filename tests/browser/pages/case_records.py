"""The case page's records, as a facilitator uses them (templates/cases/_risk.html, _notes.html,
_agreement.html): a risk assessment, a note, an agreement item, each written here and read back
as the browser unlocks it."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.pages.letters import UNLOCK_MS, CasePage


class CaseRecords(CasePage):
    @classmethod
    def open(cls, page: Page, url: str) -> CaseRecords:
        page.goto(url)
        return cls(page).arrived()

    def arrived(self) -> CaseRecords:
        super().arrived()
        return self

    def records_risk(
        self,
        level: str,
        *,
        why: str | None = None,
        harmed: str,
        responsible: str,
        safeguarding: str,
    ) -> None:
        """``level``: "Low", "Medium" or "High"; ``why`` a high-risk reason's label."""
        section = self.page.locator("#risk-section")
        details = section.locator("#risk-form-details")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        section.get_by_role("radio", name=level, exact=True).check()
        if why:
            section.get_by_role("radio", name=why, exact=True).check()
        section.get_by_label("Risks to the person harmed").fill(harmed)
        section.get_by_label("Risks to the person responsible").fill(responsible)
        section.get_by_label("Safeguarding steps").fill(safeguarding)
        self.check()
        section.get_by_role("button", name="Save the assessment").click()
        expect(self.status_message).to_contain_text("The risk assessment is saved")
        expect(self.page.locator("#risk-level-text")).to_contain_text(
            f"Risk level: {level.lower()}"
        )
        self.unlocked()

    def risk_answer(self, question: str) -> Locator:
        """The unlocked answer under ``question`` ("Risks to the person harmed", ...)."""
        return self.page.locator("#risk-answers dt", has_text=question).locator("+ dd")

    def writes_note(self, text: str) -> None:
        self.page.get_by_label("New note").fill(text)
        self.page.get_by_role("button", name="Add the note").click()
        expect(self.status_message).to_have_text("The note is saved.")
        self.unlocked()

    @property
    def notes(self) -> Locator:
        return self.page.locator("#notes-list [data-sealed='case-note']")

    def agrees(self, kind: str, due: str, description: str) -> None:
        """``kind``: the option's label ("An apology"); ``due``: YYYY-MM-DD."""
        section = self.page.locator("#agreement-section")
        section.locator("#agreement-form-details summary").click()
        section.get_by_label("What was agreed").select_option(label=kind)
        section.get_by_label("Due on").fill(due)
        section.get_by_label("Description").fill(description)
        self.check()
        section.get_by_role("button", name="Add the item").click()
        expect(self.status_message).to_contain_text(f"Added: {kind.lower()}, due")
        self.unlocked()

    @property
    def agreement_items(self) -> Locator:
        return self.page.locator("#agreement-list > li")

    def marks_completed(self, item: Locator) -> None:
        item.get_by_role("button", name="Mark completed").click()
        expect(self.status_message).to_contain_text("Marked completed on")
        self.unlocked()

    @staticmethod
    def _opens_new_due(item: Locator) -> None:
        """Unfolds the item's "Agree a new due date" (folded again after each answer)."""
        folded = item.locator("details.new-due:not([open]) > summary")
        if folded.count():
            folded.click()

    def agrees_new_due(self, item: Locator, due: str) -> None:
        """A new due day (YYYY-MM-DD) for ``item``, as the facilitator types it."""
        self._opens_new_due(item)
        item.get_by_label("New due date").fill(due)
        item.get_by_role("button", name="Change the due date").click()
        expect(self.status_message).to_contain_text("The new due date is")
        self.unlocked()

    def tries_new_due(self, item: Locator, due: str) -> Locator:
        """A new due day the portal refuses: the field's error, for the test to read."""
        self._opens_new_due(item)
        field = item.get_by_label("New due date")
        field.fill(due)
        item.get_by_role("button", name="Change the due date").click()
        error = self.page.locator(f"#{field.get_attribute('id')}-error")
        expect(error).not_to_be_empty()
        self.check()
        return error

    def unlocked(self) -> None:
        expect(self.being_unlocked).to_have_count(0, timeout=UNLOCK_MS)
        expect(self.page.locator('[data-sealed-state="failed"]')).to_have_count(0)
        self.check()
