"""A breached server and an invitation made in the inviter's browser, in a real browser.

A facilitator's browser made an invitation for a participant (prepare, code, MAC, seal:
docs/api-trust.md). An attacker who owns the database then rewrites the invitation's row so that
it names the attacker's keys as the inviter's (tests/browser/support/breach.py), hoping the
joining browser will pin them and later trust what the attacker sends. The joining browser checks
the invitation's MAC, made with the code the server never saw, before it sends anything else: it
refuses, says so calmly, reports it and redeems nothing (docs/security.md, "Trust anchors").

The control, the same invitation unmodified, is the last test here; the full journey of
participants joining with links made on the case page is tests/browser/test_letters_journey.py.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import JoinPage
from tests.browser.pages.refusals import StaffHome, staff_signs_in
from tests.browser.support.backstage import new_password
from tests.browser.support.breach import (
    BreachedServer,
    InvitationState,
    Requests,
    SecurityEvent,
)
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import SeededCase, seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer

# What the joining page says (client/security-events.js) ...
REFUSAL = (
    "This invitation could not be confirmed as coming from the service, so nothing was done "
    "with it. Please contact the service that invited you."
)
# ... and what staff see at home (portal/workspace/security_events.py).
HOME_WORDS = (
    "An invitation could not be confirmed as genuine when someone tried to join with it. "
    "Nothing was redeemed."
)
UNUSED = InvitationState(redeemed=False, account_made=False, participant_joined=False)
KIND = "security:invitation-not-genuine"


def _invitation_for_a_new_participant(portal: Portal) -> tuple[SeededCase, str]:
    """A case, and a participant added to it and invited by its facilitator's browser (not yet
    joined); the code, as the link carries it."""
    case = seed_case(portal)
    _, code = case.world.invite_participant("person_harmed", "Jo")
    return case, code


def _reported_once(server: BreachedServer, expected: SecurityEvent) -> None:
    """Exactly one security event, the refusal: by nobody signed in, about the case the
    invitation was for."""
    # The report is sent in the background, just after the page says it: wait for it.
    deadline = time.monotonic() + 10
    while expected not in server.security_events() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.security_events() == [expected]


@pytest.mark.browser
@pytest.mark.parametrize("swapped", ["box-key", "signing-key", "both-keys"])
def test_a_joining_browser_refuses_an_invitation_naming_an_attackers_keys(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    swapped: str,
) -> None:
    """The invitation's row names the attacker's box key, signing key or both as the
    inviter's: the joining browser refuses before asking for a name and a password, redeems
    nothing, and the facilitator and the service manager see the report at home."""
    case, code = _invitation_for_a_new_participant(portal)
    server = BreachedServer(portal)
    attacker = server.attacker().person
    server.swap_inviter_keys(
        code,
        box=attacker.public_key if swapped != "signing-key" else None,
        signing=attacker.signing_public_key if swapped != "box-key" else None,
    )

    requests = Requests(page)
    join = JoinPage.open(page, live_server.url(f"/join#code={code}"))
    assert join.is_told_invitation_is_not_genuine() == REFUSAL
    expect(page.locator("#code-alert")).to_have_text(REFUSAL)

    # Nothing was redeemed: only the lookup and the report were sent.
    _reported_once(server, SecurityEvent(KIND, None, case.case_id))
    assert requests.posts("/api/join/complete") == []
    assert requests.posts("") == ["POST /api/join/start", "POST /api/security-events"]
    assert server.invitation_state(code) == UNUSED

    # The inviting facilitator (the case is theirs) and the service manager see it at home.
    for person in (case.facilitator, portal.service_root()):
        home: StaffHome = staff_signs_in(
            new_context().new_page(), live_server.base_url, person.name, person.password
        )
        assert "Case RJ-" in home.sees_security_event(HOME_WORDS)


@pytest.mark.browser
def test_the_same_invitation_unmodified_joins(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    """The control: made the same way and left as it was, the invitation's MAC matches and the
    participant joins; nothing is reported."""
    _, code = _invitation_for_a_new_participant(portal)
    server = BreachedServer(portal)

    join = JoinPage.open(page, live_server.url(f"/join#code={code}"))
    assert join.is_asked_how_to_sign_in() == "Participant"
    join.joins("jo harmed", new_password())
    join.continues()

    assert server.invitation_state(code) == InvitationState(
        redeemed=True, account_made=True, participant_joined=True
    )
    assert server.security_events() == []
