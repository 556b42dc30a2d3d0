"""A letter entered for a participant without access, in real browsers: the facilitator opens the
enter page from the card of a person responsible who never joined (in prison), types the letter
they dictated, says it was read back to them in person today, and sends it for review. The
review page says plainly that this facilitator entered it; they start reviewing and approve it.
The person harmed is told, before opening it, who entered it and how it was confirmed, and reads
it. Their reply to him is released on paper: the facilitator opens it in the print view and
prints it, which the audit trail records."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.audit.models import AuditEvent
from tests.browser.pages.entered import (
    EnteredReviewPage,
    EnterPage,
    HomeWithLettersToPrint,
    PaperReviewPage,
    fits_320,
)
from tests.browser.pages.letters import (
    CasePage,
    QueuePage,
    facilitator_signs_in,
    participant_signs_in,
)
from tests.browser.pages.media import player, plays, shown_pages
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer
from tests.support.media import png

LETTER = "I think about that night every day.\n\nI am sorry, and I will not do it again."


@pytest.mark.browser
def test_a_facilitator_enters_a_letter_for_someone_in_prison_and_it_reaches_the_person_harmed(
    page: Page, new_context: NewContext, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    kai = case.world.add_without_access("person_responsible", "Kai")

    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    card = case_page.participant("Kai")
    card.get_by_role("link", name="Enter a letter or recording for the person responsible").click()
    enter = EnterPage(page, "Kai").arrived()
    enter.fits_a_phone()
    review = enter.enters(
        LETTER, "Read back to them in person", date.today(), note="Prison visit, with his tutor."
    )

    entered = page.locator("#review-entered")
    expect(entered).to_contain_text("Entered by you for the person responsible")
    expect(entered).to_contain_text("read back to them in person")
    expect(page.locator("#review-entered-note")).to_have_text("Prison visit, with his tutor.")
    expect(page.locator("#review-from")).to_contain_text("Kai")
    expect(page.locator("#review-entered-by-you")).to_be_visible()
    assert review.letter_text() == LETTER
    review = review.starts_reviewing()
    expect(page.locator("#review-entered-by-you")).to_be_visible()
    # The sealer's key is this facilitator's, which the trust log vouches for: no warning that
    # it belongs to nobody in the case.
    expect(page.locator('[data-when-key="unknown"]')).to_be_hidden()
    review.approves_anyway()

    other = new_context().new_page()
    home = participant_signs_in(other, live_server.base_url, case.harmed.name, case.harmed.password)
    inbox = home.sees_choices_for_waiting_item()
    expect(other.locator("#item-entered")).to_contain_text(
        "Entered by your facilitator on behalf of the person responsible, who does not use this "
        "portal. It was confirmed by reading it back to them in person on"
    )
    assert inbox.opens_it_now() == [
        "I think about that night every day.",
        "I am sorry, and I will not do it again.",
    ]
    expect(other.locator("#item-entered")).to_be_visible()

    # The person harmed replies; Kai has no account, so it reaches him on paper: the
    # facilitator approves it, opens it in their browser and prints it.
    reply = case.world.write_letter(case.harmed, "Thank you for writing to me.", to=kai)
    page.goto(live_server.url(f"/review/{reply}"))
    paper = PaperReviewPage(page).arrived().starts_reviewing()
    paper.approves_on_paper()
    # Until it is printed, it is a task on the home (and above the queue).
    page.goto(live_server.url("/home"))
    tasks = HomeWithLettersToPrint(page).arrived()
    printing = tasks.prints_from_the_task("the person responsible", "Kai")
    assert printing.letter_text() == "Thank you for writing to me."
    printing.fits_a_phone()
    printing.on_paper_shows_only_the_letter()
    printing.prints()
    page.goto(live_server.url("/home"))
    expect(HomeWithLettersToPrint(page).arrived().letters_to_print).to_have_count(0)
    # Printing again stays possible from its review page.
    page.goto(live_server.url(f"/review/{reply}"))
    PaperReviewPage(page).arrived().opens_print_view("Kai")
    with portal.db() as db:
        tags = db.scalars(
            select(AuditEvent.tag)
            .where(AuditEvent.subject_id == reply)
            .order_by(AuditEvent.id.desc())
        ).first()
    assert tags == "message:printed-for-participant"


@pytest.mark.browser
def test_a_facilitator_enters_scanned_pages_and_a_recording_for_someone_in_prison(
    page: Page, live_server: LiveServer, portal: Portal, tmp_path: Path
) -> None:
    """Kai wrote two pages by hand, and on a later visit recorded a message: the facilitator
    adds the scans on the enter page, then records in their own browser, with the same
    confirmation record; each is reviewed as what it is and labelled as entered."""
    case = seed_case(portal)
    case.world.consent(case.harmed, ["letter", "audio", "video"])
    kai = case.world.add_without_access("person_responsible", "Kai", ("letter", "audio", "video"))
    first, second = tmp_path / "kai-page-1.png", tmp_path / "kai-page-2.png"
    first.write_bytes(png(320, 200, seed=1))
    second.write_bytes(png(300, 420, seed=2))

    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    enter_url = live_server.url(f"/cases/{case.case_id}/participants/{kai}/enter")
    page.goto(enter_url)
    enter = EnterPage(page, "Kai").arrived()
    enter.fits_a_phone()
    enter.adds_files([first, second])
    enter.sends_for_review(
        "They signed the paper copy", date.today(), "Both pages signed.", what="scanned pages"
    )
    expect(page.locator("#review-entered")).to_contain_text(
        "Entered by you for the person responsible"
    )
    assert shown_pages(page, 2) == [320, 300]

    page.goto(enter_url)
    enter = EnterPage(page, "Kai").arrived()
    enter.records("Sound only", seconds=2)
    enter.fits_a_phone()
    enter.sends_for_review("Read back to them in person", date.today(), what="an audio recording")
    entered = page.locator("#review-entered")
    expect(entered).to_contain_text("Entered by you for the person responsible")
    expect(entered).to_contain_text("read back to them in person")
    plays(player(page, "Audio recording"), video=False)

    # The queue's rows say it too, as the review page does, and fit a phone.
    page.goto(live_server.url("/queue"))
    queue = QueuePage(page).arrived()
    labels = page.locator("#queue-table [data-entered]")
    expect(labels).to_have_count(2)
    expect(labels.first).to_have_text("Entered by you for the person responsible")
    fits_320(page)
    queue.check()


@pytest.mark.browser
def test_a_returned_entered_letter_is_revised_for_them_with_a_fresh_confirmation(
    page: Page, new_context: NewContext, live_server: LiveServer, portal: Portal
) -> None:
    """The facilitator entered Kai's letter; it is returned with feedback. On the next visit
    they go through it with him: the revise page shows the feedback and his words as they
    were, and asks afresh how he confirmed the changed version. It goes back for review,
    labelled with the new confirmation, and is released."""
    case = seed_case(portal)
    kai = case.world.add_without_access("person_responsible", "Kai")
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    page.goto(live_server.url(f"/cases/{case.case_id}/participants/{kai}/enter"))
    review = (
        EnterPage(page, "Kai")
        .arrived()
        .enters("I am sorry.", "Read back to them in person", date.today())
    )
    review_url = page.url
    review.starts_reviewing().returns_with_feedback("Could he say what he will do differently?")

    page.goto(review_url)
    returned = EnteredReviewPage(page).arrived()
    revise = returned.makes_the_changes_for_them("Kai")
    revise.fits_a_phone()
    assert revise.feedback() == "Could he say what he will do differently?"
    assert revise.letter_as_it_was() == "I am sorry."
    page.get_by_label("Their letter").fill("I am sorry. I am going to the victim awareness course.")
    review = revise.sends_for_review("Read back to them by phone", date.today())
    entered = page.locator("#review-entered")
    expect(entered).to_contain_text("Entered by you for the person responsible")
    expect(entered).to_contain_text("read back to them by phone")
    assert review.letter_text() == "I am sorry. I am going to the victim awareness course."
    review.starts_reviewing().approves_anyway()

    other = new_context().new_page()
    home = participant_signs_in(other, live_server.base_url, case.harmed.name, case.harmed.password)
    inbox = home.sees_choices_for_waiting_item()
    expect(other.locator("#item-entered")).to_contain_text(
        "It was confirmed by reading it back to them by phone on"
    )
    assert inbox.opens_it_now() == ["I am sorry. I am going to the victim awareness course."]
