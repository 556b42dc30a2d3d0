"""A case nobody active holds, in real browsers: its only facilitator was disabled; the service
manager, on a 320 px phone, finds it on their home with how long, and reassigns it to a
certified facilitator; the facilitator opens it on another device and their browser makes the
case a new key from nothing (the page says that what came before stays locked); the person
responsible then sends a letter with the new key and the facilitator reads it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from tests.browser.pages import SignInPage
from tests.browser.pages.letters import (
    CasePage,
    ReviewPage,
    facilitator_signs_in,
    participant_signs_in,
)
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_manager_reassigns_a_case_and_the_new_facilitator_starts_a_new_key(
    page: Page, new_context: NewContext, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    reference = case.world.reference
    manager = portal.service_manager()
    newcomer = portal.person(Role.FACILITATOR)
    disabled = portal.service_root().post_form(
        f"/staff/people/{case.facilitator.account_id}/disable"
    )
    assert disabled.status_code == 303

    page.set_viewport_size({"width": 320, "height": 640})
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    unattended = page.locator("#unattended-cases")
    expect(unattended).to_contain_text(f"Case {reference}")
    expect(unattended).to_contain_text("without a facilitator since")
    home.check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    unattended.get_by_label(f"Facilitator who takes case {reference}").select_option(
        label=newcomer.name
    )
    unattended.get_by_role("button", name=f"Reassign case {reference}").click()
    expect(page.locator("#unattended-cases")).to_have_count(0)

    theirs = new_context().new_page()
    facilitator_signs_in(theirs, live_server.base_url, newcomer.name, newcomer.password)
    their_case = CasePage.open(theirs, live_server.url(f"/cases/{case.case_id}"))
    expect(their_case.status_message).to_contain_text(
        "Your browser made this case's new key", timeout=20_000
    )
    expect(theirs.locator("#new-key-notice")).to_contain_text("stay locked")
    expect(their_case.team).to_contain_text(f"{newcomer.name}, added by {manager.name}")

    sam = new_context().new_page()
    sams_home = participant_signs_in(
        sam, live_server.base_url, case.responsible.name, case.responsible.password
    )
    compose = sams_home.starts_letter()
    compose.writes("Written after the reassignment.")
    letter = compose.sends()
    message_id = letter.page.url.rsplit("/", 1)[-1]
    review = ReviewPage.open(theirs, live_server.url(f"/review/{message_id}"))
    assert "Written after the reassignment." in review.letter_text()
