"""A breached server, in real browsers: the database is edited between steps as an attacker who
owns the server would (tests/browser/support/breach.py), and the browser must refuse
(docs/api-trust.md, "Refusals"; docs/security.md, "Trust anchors").

Each test checks four things: the browser opens nothing and sends nothing it should not (no
letter sealed to the attacker's key, no case key given to anyone); the page says calmly what
happened and whom to tell, where the person looks; the audit trail has the `security:<kind>`
event about the case; and the case's facilitator and the service manager see it on their home
page.

People are made over HTTP by the test's Python browser (tests/cases_world.py), never through
/join in the browser; each signs in here, which pins the service root on first use.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages.letters import QueuePage, facilitator_signs_in
from tests.browser.pages.refusals import (
    RefusingInboxPage,
    StaffHome,
    page_alert,
    participant_signs_in_to_refusal,
    staff_signs_in,
)
from tests.browser.support.breach import BreachedServer, Requests, SecurityEvent, Statement
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import SeededCase, seed_case
from tests.factories import Person, Portal
from tests.support.live_server import LiveServer

# What the participant's page says (client/security-events.js) ...
PARTICIPANT_CASE_KEY = (
    "Your case's key could not be confirmed as coming from your facilitator, so nothing can be "
    "sent from here for now. Nothing was opened. Please tell your facilitator or the service."
)
PARTICIPANT_RELEASE = (
    "This could not be confirmed as coming from your facilitator. Nothing was opened. "
    "Please tell your facilitator or the service."
)
# ... a member of staff's ...
STAFF_CASE_KEY = (
    "This case's key could not be confirmed as coming from certified staff of the service, so "
    "nothing can be sealed for it. Nothing was opened. Please tell your service manager."
)
# ... and what staff see at home (portal/workspace/security_events.py).
HOME_WORDS = {
    "case-grant-not-genuine": "A case key given to someone could not be confirmed as coming "
    "from trusted staff, so it was not used.",
    "case-key-not-genuine": "A case key could not be confirmed as signed by trusted staff, so "
    "it was not used.",
    "release-not-genuine": "Something sent to a participant could not be confirmed as coming "
    "from trusted staff, so it was not opened.",
}


def _reported(server: BreachedServer, kind: str, actor: Person, case_id: str) -> None:
    """The refusal is in the audit trail, about the case, by the person whose browser refused,
    and nothing else was reported."""
    expected = SecurityEvent(f"security:{kind}", actor.account_id, case_id)
    # The report is sent in the background, just after the page says it: wait for it.
    deadline = time.monotonic() + 10
    while expected not in server.security_events() and time.monotonic() < deadline:
        time.sleep(0.1)
    events = server.security_events()
    assert expected in events, events
    assert {event.tag for event in events} == {f"security:{kind}"}


def _staff_see_it(
    new_context: NewContext, live_server: LiveServer, portal: Portal, case: SeededCase, kind: str
) -> None:
    """The case's facilitator and the service manager (the root) see the event at home, the
    facilitator with the case's reference."""
    root = portal.service_root()
    for person in (case.facilitator, root):
        page = new_context().new_page()
        home: StaffHome = staff_signs_in(page, live_server.base_url, person.name, person.password)
        shown = home.sees_security_event(HOME_WORDS[kind])
        assert "Case RJ-" in shown


# -- 1. a participant's case key ------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("served_as", ["attacker", "facilitator"])
def test_a_participant_refuses_a_case_key_granted_by_an_attackers_account(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    served_as: str,
) -> None:
    """The grant of the case public key is replaced with the attacker's case key, granted by
    an account the attacker made: named as the attacker's account (which no root certified),
    or as the case's facilitator with the attacker's box key served as theirs. Either way the
    participant's browser refuses before opening it; nothing can be sent."""
    case = seed_case(portal)
    server = BreachedServer(portal)
    attacker = server.attacker()
    letters_before = server.messages_in(case.world)
    server.give_attackers_case_key(case.world, case.responsible, attacker)
    genuine_key = None
    if served_as == "facilitator":
        # The server names the genuine, certified facilitator as the sender, with the
        # attacker's box key served as theirs (the grant opens with that key).
        server.name_grant_sender(case.responsible, case.facilitator)
        genuine_key = server.name_key(case.facilitator.account_id, attacker.person.public_key)

    requests = Requests(page)
    home = participant_signs_in_to_refusal(
        page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    assert home.refusal() == PARTICIPANT_CASE_KEY
    compose = home.starts_letter_that_cannot_be_sent()
    still = "You can still write: your words are saved as you go."
    assert compose.refusal() == f"{PARTICIPANT_CASE_KEY} {still}"
    compose.writes("Words that must never be sealed to the attacker's key.")

    # Nothing was sent: no letter submitted, no message made.
    assert requests.posts("/api/letters") == []
    assert server.messages_in(case.world) == letters_before
    _reported(server, "case-grant-not-genuine", case.responsible, case.case_id)

    if genuine_key is not None:
        server.name_key(case.facilitator.account_id, genuine_key)  # the facilitator signs in
    _staff_see_it(new_context, live_server, portal, case, "case-grant-not-genuine")


# -- 2. a release from an account with no certificate ----------------------------------------


@pytest.mark.browser
def test_a_participant_refuses_a_release_granted_by_an_uncertified_account(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    """An approved letter's grant to its recipient is replaced with one made by the attacker's
    account, which the server names as the sender: the recipient's browser opens nothing."""
    case = seed_case(portal)
    message_id = case.approved_letter("I am sorry.")
    server = BreachedServer(portal)
    attacker = server.attacker()
    server.release_from_attacker(message_id, case.harmed, attacker)

    home = participant_signs_in_to_refusal(
        page, live_server.base_url, case.harmed.name, case.harmed.password
    )
    home.sees_choices_for_waiting_item()
    inbox = RefusingInboxPage(page)
    assert inbox.tries_to_open_a_release_not_genuine() == PARTICIPANT_RELEASE
    expect(inbox.opened_text).to_be_empty()

    _reported(server, "release-not-genuine", case.harmed, case.case_id)
    _staff_see_it(new_context, live_server, portal, case, "release-not-genuine")


# -- 3. the facilitator's case key ------------------------------------------------------------


BREACHES: dict[str, tuple[bool, Statement, str]] = {
    # The grant made by the attacker's account, of the attacker's key pair ...
    "attacker-grant": (True, "kept", "case-grant-not-genuine"),
    "attacker-grant-forged-statement": (True, "forged", "case-grant-not-genuine"),
    # ... or the facilitator's own grant kept, with the attacker's public key listed for the
    # case and no statement, or one the attacker signed.
    "missing-statement": (False, "missing", "case-key-not-genuine"),
    "forged-statement": (False, "forged", "case-key-not-genuine"),
}


@pytest.mark.browser
@pytest.mark.parametrize("breach", list(BREACHES))
def test_a_facilitator_refuses_a_swapped_case_key_and_gives_it_to_nobody(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext, breach: str
) -> None:
    """The case page of a case whose key was swapped: the facilitator's browser refuses it, so
    a participant who has joined and waits for the case key is not given one."""
    grant_by_attacker, statement, kind = BREACHES[breach]
    case = seed_case(portal)
    server = BreachedServer(portal)
    attacker = server.attacker()
    server.without_case_key(case.world, case.harmed)  # joined, waiting for the case key
    server.swap_case_key(
        case.world, attacker, grant_by_attacker=grant_by_attacker, statement=statement
    )

    requests = Requests(page)
    home = facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    home.opens_cases().opens_case(server.reference_of(case.world))
    assert page_alert(page, "#case-alert") == STAFF_CASE_KEY
    expect(page.locator("#add-participant-section")).to_be_hidden()

    # The case key was given to nobody.
    assert requests.posts("/case-key") == []
    assert server.case_public_grant_of(case.harmed) is None
    _reported(server, kind, case.facilitator, case.case_id)
    _staff_see_it(new_context, live_server, portal, case, kind)


@pytest.mark.browser
def test_the_review_page_refuses_a_case_key_granted_by_an_attacker(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    """A letter waits for review in a case whose key grant the attacker replaced: the review
    page opens nothing, offers no decision, and seals nothing for the recipient."""
    case = seed_case(portal)
    case.letter_waiting_for_review("Please pass this on.")
    server = BreachedServer(portal)
    attacker = server.attacker()
    server.swap_case_key(case.world, attacker, grant_by_attacker=True, statement="forged")

    requests = Requests(page)
    facilitator = case.facilitator
    facilitator_signs_in(page, live_server.base_url, facilitator.name, facilitator.password)
    QueuePage(page).visit(live_server.url("/queue")).reviews_oldest()
    assert page_alert(page, "#review-alert") == STAFF_CASE_KEY
    expect(page.locator("#letter-text")).to_be_hidden()
    for form in page.locator("form[data-decision]").all():
        expect(form).to_be_hidden()

    assert [r for r in requests.posts("") if "/approve" in r or "/case-key" in r] == []
    _reported(server, "case-grant-not-genuine", case.facilitator, case.case_id)
    _staff_see_it(new_context, live_server, portal, case, "case-grant-not-genuine")
