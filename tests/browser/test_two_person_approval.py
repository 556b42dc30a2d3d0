"""Two-person approval in real browsers: a facilitator marks the case high-risk on its page and
gives the first approval with a note; nothing reaches the person harmed; a second facilitator,
on another device, finds it from their home, reads the first's note (opened in their browser)
and gives the second approval, which offers it to the person harmed. The first approver is
offered no second approval of their own. The second facilitator's pages read on a 320 px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from tests.browser.pages.letters import (
    CasePage,
    QueuePage,
    ReviewPage,
    facilitator_signs_in,
)
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_two_facilitators_approve_a_letter_in_a_high_risk_case(
    page: Page, new_context: NewContext, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    colleague = portal.person(Role.FACILITATOR)
    case.world.add_colleague(colleague)
    message_id = case.letter_waiting_for_review("I am sorry for what I did.")

    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    case_page.marks_high_risk("Sexual harm")

    queue = QueuePage(page).visit(live_server.url("/queue")).arrived()
    review = queue.reviews_oldest()
    queue = review.approves_first("Please check the last paragraph with her liaison officer.")
    expect(queue.item(message_id)).to_contain_text("Waiting for a second approval")
    expect(
        queue.item(message_id).get_by_role("link", name="Give the second approval")
    ).to_have_count(0)
    # The same facilitator twice never counts: their page offers no second approval.
    mine = ReviewPage.open(page, live_server.url(f"/review/{message_id}"))
    expect(mine.decision).to_contain_text("You gave the first approval")
    expect(page.get_by_role("radio")).to_have_count(0)
    # Nothing has reached the person harmed.
    assert case.harmed.post_json(f"/api/inbox/{message_id}/open").status_code == 404

    second = new_context().new_page()
    second.set_viewport_size({"width": 320, "height": 640})  # the colleague is on a phone
    home = facilitator_signs_in(second, live_server.base_url, colleague.name, colleague.password)
    home.page.get_by_role("link", name="1 waiting for a second approval").click()
    expect(second).to_have_url(re.compile(r"/queue\?state=second$"))
    theirs = QueuePage(second).arrived()
    theirs.fits_the_screen()
    theirs.item(message_id).get_by_role("link", name="Give the second approval").click()
    review = ReviewPage(second).arrived()
    expect(second.locator("#review-state")).to_contain_text("waiting for a second approval")
    assert second.evaluate("document.documentElement.scrollWidth") <= 320
    assert review.first_approval_note() == (
        "Please check the last paragraph with her liaison officer."
    )
    review.gives_second_approval("Take your time; I can be with you when you read it.")

    assert case.world.read_content_note(case.harmed, message_id) == (
        "Take your time; I can be with you when you read it."
    )
    assert case.world.open_letter(case.harmed, message_id) == "I am sorry for what I did."
