"""The facilitator's case pages in the browser: opening a case (what to change is said at the
field), closing a case only after saying yes, and the cases list, a case and its audit trail on
a 320 px wide phone screen.

The case is seeded over HTTP (support/letters_backstage.py); the journey in
test_letters_journey.py builds one through these pages.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from portal import protocol
from tests.browser.pages.letters import CasePage, FacilitatorHome, facilitator_signs_in
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


def scrolls_sideways(page: Page) -> bool:
    """Whether the page, or any part of it (a table in a scrolling box), is wider than the
    screen, so that someone has to scroll sideways to read it."""
    wider: bool = page.evaluate(
        """() => {
          const root = document.documentElement;
          if (root.scrollWidth > root.clientWidth) return true;
          return [...document.querySelectorAll("main *")].some((element) => {
            const overflow = getComputedStyle(element).overflowX;
            const scrolls = overflow === "auto" || overflow === "scroll";
            return (scrolls && element.scrollWidth > element.clientWidth + 1)
              || element.getBoundingClientRect().right > root.clientWidth + 1;
          });
        }"""
    )
    return wider


@pytest.mark.browser
def test_opening_a_case_says_what_to_change_next_to_the_field(
    page: Page, live_server: LiveServer, portal: Portal, browser_guard: BrowserGuard
) -> None:
    # The refusals below are the point: Chromium logs each 4xx answer.
    browser_guard.expect("console", r"status of 400")
    browser_guard.expect("console", r"status of 409")
    case = seed_case(portal)
    home: FacilitatorHome = facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    new_case = home.opens_cases().starts_new_case()
    # The button waits for the page's module (the sealer) rather than answering "getting ready".
    expect(page.get_by_role("button", name="Open the case")).to_be_enabled()

    # The service's own refusal, from the server, lands under the field it is about.
    new_case.submits("!!", "Shop window, spring")
    expect(page.locator("#case-reference-error")).to_have_text(
        re.compile("Use 2 to 40 letters, numbers")
    )
    expect(new_case.reference).to_have_attribute("aria-invalid", "true")
    expect(new_case.reference).to_be_focused()
    expect(page.locator("#new-case-alert")).to_have_text("")

    # A reference already in use: the same place, and the first error is gone from the label.
    new_case.submits(case.world.reference, "Shop window, spring")
    expect(page.locator("#case-reference-error")).to_have_text(
        "A case with that reference already exists."
    )
    new_case.submits("RJ-2026-099", " ")
    expect(page.locator("#case-label-error")).to_have_text("Give the case a short label.")
    expect(page.locator("#case-reference-error")).to_have_text("")
    expect(new_case.reference).not_to_have_attribute("aria-invalid", "true")

    new_case.opens("RJ-2026-099", "Shop window, spring")


@pytest.mark.browser
def test_case_is_closed_only_after_saying_yes_and_then_nothing_more_is_offered(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))

    # The case moves along its path, dated and audited; closing says why, and ends it.
    case_page.records_stage("First contact")
    case_page.records_stage("Assessment")
    case_page.starts_closing_but_keeps_it_open()
    expect(page.locator("#case-status-text")).to_have_text("open")

    case_page.closes("Not suitable after assessment")
    stage = page.locator("#path-stage-text")
    expect(stage).to_contain_text("Closed: not suitable after assessment")
    expect(page.get_by_role("button", name="Record the stage")).to_have_count(0)
    for action in ("Pause the case", "Resume the case", "Close the case"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    expect(page.get_by_role("heading", name="Add a participant")).to_have_count(0)
    expect(page.get_by_role("button", name="Record consent")).to_have_count(0)
    # The participants are still there, named, with their security numbers.
    expect(page.locator("[data-fingerprint]")).to_have_count(2)

    case_page = case_page.reloads()
    expect(page.locator("#case-status-text")).to_have_text("closed")
    expect(page.get_by_role("button", name="Record consent")).to_have_count(0)


@pytest.mark.browser
def test_cases_list_case_and_audit_trail_fit_a_320_px_screen(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    page.set_viewport_size({"width": 320, "height": 640})
    home = facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    cases = home.opens_cases()
    assert not scrolls_sideways(page)
    reference = page.locator("#cases-table tbody th").first.inner_text()

    case_page = cases.opens_case(reference)
    assert not scrolls_sideways(page)

    audit = case_page.opens_audit_trail()
    expect(audit.events.first).to_be_visible()
    assert audit.events.count() > 5
    assert not scrolls_sideways(page)


@pytest.mark.browser
def test_name_that_does_not_open_is_called_by_its_side_and_the_rest_still_works(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    # A breached server, or a damaged row: a sealed name that is not one.
    added = case.facilitator.post_json(
        f"/api/cases/{case.case_id}/participants",
        {"side": "person_harmed", "sealed_name": protocol.b64encode(secrets.token_bytes(64))},
    )
    assert added.status_code == 200, added.text
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))

    card = case_page.participant("Person harmed (name could not be unlocked)")
    expect(card).to_contain_text("This person's name could not be unlocked with the case's key.")
    # The others' names opened, and the damaged one can still be invited.
    expect(case_page.participant("Alex")).to_be_visible()
    card.get_by_role("button", name="Create an invitation for the person harmed").click()
    expect(card.locator("[data-invitation-code]")).to_be_visible()
    expect(case_page.status_message).to_have_text(
        "Invitation created for the person harmed. The code is shown once, under “Invitation”."
    )
    case_page.check()
