"""Facilitator teams in real browsers: a facilitator adds a certified colleague on the case page
(their browser checks the colleague's certificate and gives them the case key); the colleague,
on another device, opens the case and its participants' names unlock in their browser. The
page reads on a 320 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from tests.browser.pages.letters import CasePage, facilitator_signs_in
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_facilitator_adds_a_colleague_who_then_reads_the_case(
    page: Page, new_context: NewContext, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)  # the person harmed is Alex, the person responsible Sam
    colleague = portal.person(Role.FACILITATOR)
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    page.set_viewport_size({"width": 320, "height": 640})
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    case_page.adds_colleague(colleague.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    theirs = new_context().new_page()
    facilitator_signs_in(theirs, live_server.base_url, colleague.name, colleague.password)
    their_case = CasePage.open(theirs, live_server.url(f"/cases/{case.case_id}"))
    expect(their_case.participant("Alex")).to_be_visible()
    expect(their_case.participant("Sam")).to_be_visible()
    expect(their_case.team).to_contain_text(f"{colleague.name}, added by {case.facilitator.name}")
