"""Handing a case over in real browsers: the facilitator hands the case to a certified colleague
(their browser gives the colleague the case's key) and can no longer open it; the person
responsible is told plainly that sending waits; the colleague, on another device, finds the
case on their home, and opening it makes the case's new key in their browser (participants'
names, sealed before, still open there); the person responsible then writes and sends with the
new key, and the colleague reads both that letter and the one from before. The colleague's
pages read on a 320 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.cases.models import Case
from portal.content.models import ContentGrant, GrantPurpose
from portal.messages.models import Message
from tests.browser.pages.letters import (
    CasePage,
    NotFoundPage,
    QueuePage,
    ReviewPage,
    facilitator_signs_in,
    participant_signs_in,
)
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_facilitator_hands_a_case_over_and_the_new_key_is_used_from_then_on(
    page: Page,
    new_context: NewContext,
    live_server: LiveServer,
    portal: Portal,
    browser_guard: BrowserGuard,
) -> None:
    # Chromium reports the case page answered with 404 (once handed over) on the console.
    browser_guard.expect("console", r"status of 404")
    case = seed_case(portal)  # the person harmed is Alex, the person responsible Sam
    before = case.letter_waiting_for_review("Written before the hand-over.")
    successor = portal.person(Role.FACILITATOR)
    first = case.facilitator

    facilitator_signs_in(page, live_server.base_url, first.name, first.password)
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    my_home = case_page.hands_over_to(successor.name)
    # My home says plainly where the case went: it is no longer in my list.
    expect(my_home.handed_over).to_contain_text(
        f"You handed case {case.world.reference} over to another facilitator on"
    )
    expect(my_home.handed_over).to_contain_text("It is no longer in your cases")
    NotFoundPage(page).visit_expecting_404(live_server.url(f"/cases/{case.case_id}"))
    assert first.get(f"/api/cases/{case.case_id}/key").status_code == 404

    # The person responsible is told plainly why sending waits, and need do nothing.
    sam = new_context().new_page()
    home = participant_signs_in(
        sam, live_server.base_url, case.responsible.name, case.responsible.password
    )
    expect(sam.locator("#why-not")).to_contain_text("getting a new key")

    theirs = new_context().new_page()
    theirs.set_viewport_size({"width": 320, "height": 640})  # the successor is on a phone
    their_home = facilitator_signs_in(
        theirs, live_server.base_url, successor.name, successor.password
    )
    expect(their_home.handed_over).to_contain_text(
        f"{case.world.reference} was handed over to you by another facilitator"
    )
    their_case = their_home.opens_case_needing_new_key(case.world.reference)
    expect(their_case.participant("Alex")).to_be_visible()
    expect(their_case.participant("Sam")).to_be_visible()
    expect(their_case.team).to_contain_text(f"{successor.name}, added by {first.name}")
    expect(their_case.team).not_to_contain_text(f"{first.name},")
    assert theirs.evaluate("document.documentElement.scrollWidth") <= 320
    with portal.db() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        assert (stored.key_epoch, stored.key_change_since) == (2, None)

    # The person responsible writes again, sealed to epoch 2's key.
    home = home.reloads()
    compose = home.starts_letter()
    compose.writes("Written after the hand-over.")
    compose.sends()
    with portal.db() as db:
        after = db.scalars(
            select(Message).where(Message.case_id == case.case_id, Message.id != before)
        ).one()
        epoch = db.scalars(
            select(ContentGrant.recipient_case_epoch).where(
                ContentGrant.object_id == after.object_id,
                ContentGrant.purpose == GrantPurpose.CASE,
            )
        ).one()
    assert epoch == 2

    # The successor reads both: the new letter with the new key, the old one through it.
    queue = QueuePage(theirs).visit(live_server.url("/queue")).arrived()
    expect(queue.item(after.id)).to_be_visible()
    expect(queue.item(before)).to_be_visible()
    for message_id, text in ((after.id, "Written after"), (before, "Written before")):
        review = ReviewPage.open(theirs, live_server.url(f"/review/{message_id}"))
        assert text in review.letter_text()


@pytest.mark.browser
def test_removing_a_colleague_makes_the_new_key_at_once_and_they_can_no_longer_open_it(
    page: Page,
    new_context: NewContext,
    live_server: LiveServer,
    portal: Portal,
    browser_guard: BrowserGuard,
) -> None:
    browser_guard.expect("console", r"status of 404")
    case = seed_case(portal)
    colleague = portal.person(Role.FACILITATOR)
    case.world.add_colleague(colleague)
    first = case.facilitator

    facilitator_signs_in(page, live_server.base_url, first.name, first.password)
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    case_page.removes_colleague(colleague.name)
    expect(case_page.participant("Alex")).to_be_visible()
    with portal.db() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        assert (stored.key_epoch, stored.key_change_since) == (2, None)

    theirs = new_context().new_page()
    facilitator_signs_in(theirs, live_server.base_url, colleague.name, colleague.password)
    NotFoundPage(theirs).visit_expecting_404(live_server.url(f"/cases/{case.case_id}"))
