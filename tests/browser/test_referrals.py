"""Referrals in real browsers: the service manager sets up the referral key on the Referrals
page (made, signed and granted in their browser) and designates a facilitator; a partner agency
refers someone on a 320 px phone and a person refers themself, each sealed in their browser to
the key the trust log vouches for, and sees the reference. Nothing they typed reaches the
server in clear; the manager and the designated facilitator open what arrived in their own
browsers."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal import protocol
from portal.accounts.models import Role
from portal.referrals.models import Referral
from portal.settings import Settings
from tests.browser.pages.referrals import (
    ReferPage,
    ReferralsInbox,
    ReferralsPage,
    SelfReferPage,
)
from tests.browser.pages.sign_in import SignInPage
from tests.browser.support.devices import NewContext
from tests.factories import Portal
from tests.support import leaks
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_manager_sets_up_referrals_and_an_agency_and_a_person_refer_in_confidence(
    page: Page,
    new_context: NewContext,
    live_server: LiveServer,
    portal: Portal,
    settings: Settings,
) -> None:
    manager = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR)
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    referrals = ReferralsPage.opened_from_home(home)
    referrals.sets_up_referrals()
    referrals.lets_read_referrals(facilitator.name)
    assert referrals.readers() == [facilitator.name]

    canary = f"canary-{secrets.token_hex(6)}"
    agency = new_context().new_page()
    agency.set_viewport_size({"width": 320, "height": 640})
    refer = ReferPage.open(agency, live_server.base_url)
    digits = protocol.identity_fingerprint_digits(manager.public_key, manager.signing_public_key)
    assert refer.service_number() == protocol.format_fingerprint(digits)
    assert "fill in" in refer.tries_to_send_empty().lower()
    sent = refer.refers(
        organisation="Probation",
        referrer="Officer Lee",
        contact="lee@example.org",
        side="The person responsible",
        person=f"Sam {canary}",
        what_happened=f"A burglary. {canary}",
    )
    assert sent.reference.startswith("R-")
    assert agency.evaluate("document.documentElement.scrollWidth") <= 320

    person = new_context().new_page()
    confidential = SelfReferPage.open(person, live_server.base_url)
    told = confidential.asks_in_confidence(
        name=f"Ana {canary}", contact="07700 900123", safe="Texts only", message=canary
    )
    expect(person.get_by_text("Nothing happens without your agreement")).to_be_visible()
    assert told.reference != sent.reference

    with portal.db() as db:
        rows = {row.reference: row for row in db.scalars(select(Referral))}
        assert (rows[sent.reference].channel.value, rows[sent.reference].source.value) == (
            "agency",
            "probation",
        )
        assert rows[told.reference].source.value == "self"
        for row in rows.values():
            assert len(row.ciphertext) in protocol.referral_sealed_sizes()
    assert leaks.find({"canary": canary.encode()}, settings.database_url, [settings.data_dir]) == []

    # The manager, and the designated facilitator on their own device, open what arrived.
    opened = ReferralsInbox.open(page, live_server.base_url).opens(sent.reference).unlocked()
    opened.shows("In brief", f"A burglary. {canary}")
    opened.shows("They are", "The person responsible")
    theirs = new_context().new_page()
    SignInPage.open(theirs, live_server.base_url).signs_in(facilitator.name, facilitator.password)
    their_copy = ReferralsInbox.open(theirs, live_server.base_url).opens(told.reference).unlocked()
    their_copy.shows("What they told us", canary)
    their_copy.shows("Getting in touch because", "Not given")
