"""Referral triage in real browsers: a partner agency's referral, sealed on /refer, is opened
by the service manager, who records asking for more with a note sealed for colleagues, then
accepts it to a facilitator not designated to read referrals (their
browser shares it with that facilitator's key from the trust log). The facilitator finds "A
referral to open as a case" on their home on a 320 px phone, reads it from the share and opens
a case from it, whose path starts on the day the referral arrived. The canary typed on /refer
is never in the database or the data folder."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal import local_time
from portal.accounts.models import Role
from portal.cases.models import Case, CaseStage, StageMove
from portal.referrals.models import Referral
from portal.referrals.states import ReferralState
from portal.settings import Settings
from tests.browser.pages.referrals import (
    ReferPage,
    ReferralsInbox,
    ReferralsPage,
    referral_to_open_from_home,
)
from tests.browser.pages.sign_in import SignInPage
from tests.browser.support.devices import NewContext
from tests.factories import Portal
from tests.support import leaks
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_referral_is_accepted_to_a_facilitator_who_opens_a_case_from_it(
    page: Page,
    new_context: NewContext,
    live_server: LiveServer,
    portal: Portal,
    settings: Settings,
) -> None:
    manager = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR)  # never designated to read referrals
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    ReferralsPage.opened_from_home(home).sets_up_referrals()

    canary = f"canary-{secrets.token_hex(6)}"
    agency = new_context().new_page()
    sent = ReferPage.open(agency, live_server.base_url).refers(
        organisation="Police",
        referrer="PC Lee",
        contact="lee@example.org",
        side="The person harmed",
        person=f"Sam {canary}",
        what_happened=f"A stolen bicycle. {canary}",
    )

    opened = ReferralsInbox.open(page, live_server.base_url).opens(sent.reference).unlocked()
    assert opened.state() == "New"
    opened.asks_for_more(f"Asked PC Lee about consent {canary}")
    assert opened.state() == "More information asked for"
    expect(opened.note()).to_have_text(f"Asked PC Lee about consent {canary}", timeout=60_000)
    opened.accepts_for(facilitator.name)
    assert opened.state() == "Accepted"

    phone = new_context().new_page()
    phone.set_viewport_size({"width": 320, "height": 640})
    their_home = SignInPage.open(phone, live_server.base_url).signs_in(
        facilitator.name, facilitator.password
    )
    theirs = referral_to_open_from_home(their_home, sent.reference).unlocked()
    theirs.shows("In brief", f"A stolen bicycle. {canary}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 320
    case_page = theirs.opens_case_from_it().opens(sent.reference, "Bicycle, from a referral")

    with portal.db() as db:
        referral = db.scalars(select(Referral).where(Referral.reference == sent.reference)).one()
        assert referral.state is ReferralState.ACCEPTED
        case = db.get(Case, case_page.case_id)
        assert case is not None
        assert case.referral_id == referral.id
        first = db.scalars(select(StageMove).where(StageMove.case_id == case.id)).one()
        assert first.stage is CaseStage.REFERRED
        assert first.reached_on == local_time.local(referral.received_at).date()
    assert leaks.find({"canary": canary.encode()}, settings.database_url, [settings.data_dir]) == []
