"""Keys that change, in the browser (issue 11, item 4): the person harmed reads a letter, then
loses their password and recovery code; after checking who they are in person, the facilitator
makes a code for a new key on the case page; the person makes their new key on a new device and
is told plainly why they wait; a new letter cannot be released to the changed key and the
review page says why; the facilitator compares the new security number in person, their browser
gives access again, and the person reads what they had opened before and what they wrote."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.pages.join import JoinPage
from tests.browser.pages.keys import (
    NewKeyOnCasePage,
    release_refused_because_key_changed,
    waiting_notice,
)
from tests.browser.pages.letters import (
    UNLOCK_MS,
    CasePage,
    ParticipantHome,
    as_paragraphs,
    facilitator_signs_in,
    participant_signs_in,
)
from tests.browser.support.backstage import new_password
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer

LETTER = "I am sorry for what happened.\n\nI think about it often."
REPLY = "Thank you for writing.\n\nI would like to meet."
PHONE = ViewportSize(width=320, height=640)


def fits_the_screen(page: Page) -> bool:
    """Nothing reaches beyond a phone's 320 px (no sideways scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= PHONE["width"]


@pytest.mark.browser
def test_a_changed_key_is_refused_until_compared_again_and_access_comes_back(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    case = seed_case(portal)
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    page.set_viewport_size(PHONE)  # every new part works on a phone
    case_url = live_server.url(f"/cases/{case.case_id}")
    case_page = CasePage.open(page, case_url)
    case_page.compared_in_person("Alex")

    # A letter is released and the person harmed opens it.
    case.approved_letter(LETTER)
    harmed_page = new_context().new_page()
    harmed_home = participant_signs_in(
        harmed_page, live_server.base_url, case.harmed.name, case.harmed.password
    )
    assert harmed_home.sees_choices_for_waiting_item().opens_it_now() == as_paragraphs(LETTER)
    case.approve(case.world.write_letter(case.harmed, REPLY))  # and they write back

    # They lose their password and recovery code: a code for a new key, made in this browser.
    code = NewKeyOnCasePage(case_page, "Alex").creates_code()
    assert fits_the_screen(page)
    new_device = new_context().new_page()
    new_device.set_viewport_size(PHONE)
    join = JoinPage.open(new_device, code.join_link)
    join.joins(case.harmed.name, new_password())
    # Told plainly what the new key changes, drafts lost included, before going on.
    expect(join.new_key_notice).to_contain_text("you cannot read the letters passed on to you")
    expect(join.new_key_notice).to_contain_text("please write them again")
    join.continues()
    home = ParticipantHome(new_device).arrived()
    expect(waiting_notice(home)).to_contain_text(
        "Your facilitator needs to check your new key before you can read your letters again"
    )
    assert fits_the_screen(new_device)

    # A new letter cannot be released to the changed key, and the page says why.
    case.letter_waiting_for_review("A second letter.")
    review = case_page.opens_review_queue().reviews_oldest()
    reason = release_refused_because_key_changed(review)
    assert "key changed on" in reason
    assert "compare it with them before releasing" in reason
    assert fits_the_screen(page)

    # Compared in person again: the browser gives access again by itself.
    case_page = CasePage.open(page, case_url)
    expect(case_page.participant("Alex").locator('[data-part="security"]')).to_have_attribute(
        "data-key-status", "changed"
    )
    case_page.compared_in_person("Alex")
    expect(case_page.status_message).to_contain_text(
        "gave 1 person access again", timeout=UNLOCK_MS
    )

    home = home.reloads()
    expect(waiting_notice(home)).to_have_count(0)
    inbox = home.goes_to_opened_item()
    assert inbox.reads_it_again() == as_paragraphs(LETTER)
    # What they wrote themselves, sealed to the case key too, is theirs to read again.
    inbox.goes_home()
    home = ParticipantHome(new_device).arrived()
    assert home.opens_letter().reads_what_i_wrote() == as_paragraphs(REPLY)
