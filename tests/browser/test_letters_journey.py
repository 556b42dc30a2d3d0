"""Letters, end to end in the browser: a case opened, two people invited, a letter written,
returned, revised, approved with a note and read by the person harmed exactly as written; and
the rules that keep a letter from moving when it must not (before opting in, after withdrawal,
while the case is paused, for a facilitator of another case).

The journey is built through the UI. The other tests seed their case and letter over HTTP with
the Python protocol (support/letters_backstage.py) and use the browser for the step they are about.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages.account import AccountPage
from tests.browser.pages.letters import (
    CasePage,
    NotFoundPage,
    ParticipantHome,
    QueuePage,
    as_paragraphs,
    facilitator_signs_in,
    participant_joins,
    participant_signs_in,
)
from tests.browser.support.backstage import new_password
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import LettersBackstage, seed_case
from tests.factories import Portal
from tests.support import leaks
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer

PAUSED_REFUSAL_PATTERN = r"status of 409"


class Canaries:
    """Unique strings to write into the portal, to look for afterwards where they must not be."""

    def __init__(self) -> None:
        self.made: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        self.made[name] = f"canary{secrets.token_hex(8)}"
        return self.made[name]

    def needles(self) -> dict[str, bytes]:
        return {name: value.encode() for name, value in self.made.items()}


# -- the journey ---------------------------------------------------------------------------


# The one browser test that also runs on PostgreSQL: every step of a letter, through the real
# server, from opening the case to the person harmed reading it (tests/conftest.py says why).
@pytest.mark.browser
@pytest.mark.both_databases
def test_letter_returned_revised_and_approved_reaches_person_harmed_exactly_and_nowhere_else(
    page: Page, live_server: LiveServer, stage: LettersBackstage, new_context: NewContext
) -> None:
    canary = Canaries()
    harmed_name = f"Robin {canary('harmed display name')}"
    responsible_name = f"Kit {canary('responsible display name')}"
    first_text = (
        f"I broke your window on the night of the party. {canary('first letter, paragraph 1')}"
        f"\n\nI am sorry for the fear it caused. {canary('first letter, paragraph 2')}"
    )
    feedback = f"Please say more about what you understand now. {canary('feedback')}"
    revised_text = (
        f"I broke your window, and I now see how unsafe you felt. {canary('revision, par 1')}"
        f"\n\nI am paying for the repair from my wages. {canary('revision, paragraph 2')}"
    )
    note = f"It is short and it apologises. {canary('content note')}"

    # The facilitator opens the case and adds the two people taking part. Security numbers are
    # over both keys (box and signing), worked out in each browser (docs/api-trust.md).
    facilitator = stage.facilitator("jordan")
    home = facilitator_signs_in(page, live_server.base_url, facilitator.name, facilitator.password)
    case = home.opens_cases().opens_new_case("RJ-2026-014", "Shop window, spring")
    case.adds_participant("Person harmed", harmed_name)
    case.adds_participant("Person responsible", responsible_name)
    harmed_invitation = case.invites(harmed_name)
    responsible_invitation = case.invites(responsible_name)
    assert harmed_invitation.join_link == live_server.url(f"/join#code={harmed_invitation.code}")

    # Each joins on their own device with the link.
    harmed_page = new_context().new_page()
    harmed_home = participant_joins(
        harmed_page, harmed_invitation.join_link, "robin h", new_password()
    )
    author_page = new_context().new_page()
    author_home = participant_joins(
        author_page, responsible_invitation.join_link, "kit r", new_password()
    )

    # Until a facilitator's browser hands them the case key, nothing can be sent: the
    # facilitator's home lists it as a task, which leads to the case page, where the key is
    # given to both; the task is then gone. Consent is recorded and keys compared there.
    home = case.goes_to_facilitator_home()
    expect(home.key_handovers).to_contain_text("2 people have joined")
    case = home.opens_case_waiting_for_its_key("RJ-2026-014")
    case.sees_case_key_given()
    home = case.goes_to_facilitator_home()
    expect(home.key_handovers).to_have_count(0)
    case = home.opens_cases().opens_case("RJ-2026-014")

    # In person, they compare security numbers both ways, as digits or as QR codes: what one
    # browser works out from the keys it was given is what the other shows for itself.
    harmed_account = harmed_home.reloads().opens_their_account()
    assert case.security_number_of(harmed_name) == harmed_account.security_number()
    assert case.security_qr_of(harmed_name) == harmed_account.security_qr()
    harmed_account.goes_home()
    harmed_home = ParticipantHome(harmed_page).arrived()
    facilitator_account = AccountPage(page.context.new_page())
    facilitator_account.page.goto(live_server.url("/account"))
    facilitator_account.arrived()
    assert harmed_home.facilitator_security_number() == facilitator_account.security_number()
    assert harmed_home.facilitator_security_qr() == facilitator_account.security_qr()
    facilitator_account.page.close()
    for name in (harmed_name, responsible_name):
        case.records_consent_to_letters(name)
        case.compared_in_person(name)

    # The person responsible writes and sends.
    composer = author_home.reloads().starts_letter()
    composer.writes(first_text)
    my_letter = composer.sends()
    assert my_letter.timeline()

    # The facilitator reads exactly what was written and returns it with feedback.
    review = case.opens_review_queue().reviews_oldest()
    assert review.letter_text() == first_text
    queue = review.returns_with_feedback(feedback)

    # The author reads the feedback and sends a new version.
    revise = my_letter.reloads().makes_changes()
    assert revise.feedback() == as_paragraphs(feedback)
    expect(revise.letter_box).to_have_value(first_text)
    revise.writes(revised_text)
    revise.sends()

    # The facilitator approves the new version with a note for the person harmed.
    review = queue.reloads().reviews_oldest()
    assert review.letter_text() == revised_text
    assert review.earlier_feedback() == feedback
    review.approves(note)

    # The person harmed sees only a neutral notice, reads the note, then opens the letter.
    harmed_home = harmed_home.reloads()
    expect(harmed_home.waiting_items).to_have_count(1)
    expect(harmed_home.waiting_items).to_contain_text("Your facilitator has passed on something")
    for value in canary.made.values():
        assert value not in harmed_page.content()
    inbox = harmed_home.sees_choices_for_waiting_item()
    assert inbox.note() == as_paragraphs(note)
    # Nothing of the letter itself is on the page before they choose to open it.
    for part in ("revision, par 1", "revision, paragraph 2"):
        assert canary.made[part] not in harmed_page.content()
    assert inbox.opens_it_now() == as_paragraphs(revised_text)

    # None of it is anywhere on the server in clear: database, data folder, logs, output.
    author_key = stage.account_named("kit r").public_key
    live_server.stop()
    folders = [live_server.data_dir, live_server.log_path.parent]
    assert leaks.find(canary.needles(), live_server.database_url, folders) == []
    # The search looks where it should: a value the server does keep is found.
    found = leaks.find({"author public key": author_key}, live_server.database_url, folders)
    assert "author public key in the database" in found


def fetch_status(page: Page, method: str, path: str) -> int:
    """The status of a request made by the page itself, as its scripts make them."""
    status: int = page.evaluate(
        """async ([method, path]) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch(path, {
            method,
            headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
            body: method === "POST" ? JSON.stringify({ author_may_see: false }) : undefined,
          });
          return response.status;
        }""",
        [method, path],
    )
    return status


# -- the rules -----------------------------------------------------------------------------


@pytest.mark.browser
def test_recipient_before_opting_in_can_fetch_no_letter_and_nothing_before_approval(
    page: Page, live_server: LiveServer, portal: Portal, browser_guard: BrowserGuard
) -> None:
    # The page's own fetch of a missing item is reported on the console.
    browser_guard.expect("console", r"status of 404")
    case = seed_case(portal)
    message_id = case.letter_waiting_for_review("Only for you, once you choose.\n\nTruly.")
    inbox_url = live_server.url(f"/inbox/{message_id}")
    note_url = live_server.url(f"/api/inbox/{message_id}/note")
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)

    # Before approval: nothing waits, and the item does not exist for them, even when asked
    # from their own signed-in page (with its CSRF token) rather than through a link.
    expect(home.waiting_items).to_have_count(0)
    assert page.request.get(inbox_url).status == 404
    assert page.request.get(note_url).status == 404
    assert fetch_status(page, "POST", f"/api/inbox/{message_id}/open") == 404

    case.approve(message_id, note="A short letter.")
    home = home.reloads()
    expect(home.waiting_items).to_have_count(1)

    # Approved but not opened: the note and what it is, never the letter or a grant to it.
    answer = page.request.get(note_url)
    assert answer.status == 200
    body: dict[str, Any] = answer.json()
    assert set(body) <= {"note", "format", "size_hint", "length"}
    letter = case.responsible.get(f"/api/letters/{message_id}").json()
    assert body["note"]["object_id"] != letter["object_id"]
    assert letter["grant"] not in str(body)
    assert not set(letter["chunks"]) & set(body["note"]["chunks"])
    # The page shows the choices and the note, and nothing of the letter.
    inbox = home.sees_choices_for_waiting_item()
    assert inbox.note() == ["A short letter."]
    expect(inbox.opened_text).to_be_hidden()
    expect(inbox.opened_text).to_be_empty()


@pytest.mark.browser
def test_letter_withdrawn_after_approval_is_no_longer_offered(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    case = seed_case(portal)
    message_id = case.approved_letter("I am sorry.\n\nI would like to explain.")
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    expect(home.waiting_items).to_have_count(1)

    author_page = new_context().new_page()
    author_home = participant_signs_in(
        author_page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    my_letter = author_home.opens_letter().withdraws()
    expect(my_letter.where_it_is).to_have_text("Withdrawn")

    home = home.reloads()
    expect(home.waiting_items).to_have_count(0)
    assert page.request.get(live_server.url(f"/inbox/{message_id}")).status == 404


@pytest.mark.browser
def test_paused_case_refuses_opening_until_resumed(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    browser_guard: BrowserGuard,
) -> None:
    browser_guard.expect("console", PAUSED_REFUSAL_PATTERN)
    case = seed_case(portal)
    text = "I think about it every day.\n\nI hope this helps a little."
    case.approved_letter(text)
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    inbox = home.sees_choices_for_waiting_item()

    facilitator_page = new_context().new_page()
    facilitator_signs_in(
        facilitator_page,
        live_server.base_url,
        case.facilitator.name,
        case.facilitator.password,
    )
    case_page = CasePage.open(facilitator_page, live_server.url(f"/cases/{case.case_id}"))
    case_page.pauses()

    refusal = inbox.tries_to_open_it()
    assert refusal == "This case is paused or closed, so nothing can move on for now."
    expect(inbox.opened_text).to_be_hidden()
    expect(inbox.opened_text).to_be_empty()

    case_page.resumes()
    assert inbox.opens_it_now() == as_paragraphs(text)


@pytest.mark.browser
def test_facilitator_of_another_case_finds_neither_the_case_nor_its_letter(
    page: Page, live_server: LiveServer, portal: Portal, browser_guard: BrowserGuard
) -> None:
    # Chromium reports each page answered with 404 on the console.
    browser_guard.expect("console", r"status of 404")
    case = seed_case(portal)
    message_id = case.letter_waiting_for_review("Not for other facilitators.")
    theirs = seed_case(portal)
    other = theirs.facilitator
    facilitator_signs_in(page, live_server.base_url, other.name, other.password)

    NotFoundPage(page).visit_expecting_404(live_server.url(f"/cases/{case.case_id}"))
    NotFoundPage(page).visit_expecting_404(live_server.url(f"/review/{message_id}"))
    assert page.request.get(live_server.url(f"/api/messages/{message_id}/review")).status == 404

    # Their own case opens as usual, and the other case's letter is not in their queue.
    CasePage.open(page, live_server.url(f"/cases/{theirs.case_id}"))
    queue = QueuePage(page).visit(live_server.url("/queue?state=all"))
    expect(queue.page.locator(f'[data-message-id="{message_id}"]')).to_have_count(0)
