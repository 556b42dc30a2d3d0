"""The review queue and the review page in a real browser: filtering swaps the list in place
(no history entry) and the list reads on a 320 px phone; starting to review claims the letter;
a decision asks for its words before it asks to confirm, and names the people in the question
once their names are unlocked; a held letter is offered again without leaving the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages.letters import QueuePage, ReviewPage, facilitator_signs_in
from tests.browser.pages.portal import path_is
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_the_queue_filters_in_place_and_reads_on_a_phone(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    message_id = case.letter_waiting_for_review("Words for the person harmed.")
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    page.set_viewport_size({"width": 320, "height": 640})
    queue = QueuePage(page).visit(live_server.url("/queue")).arrived()
    queue.fits_the_screen()
    history = page.evaluate("history.length")

    queue.shows_only(format_="Video recording")
    expect(queue.nothing_shown).to_have_text("Nothing matches these filters.")
    expect(page.locator("#queue-status")).to_have_text("Nothing matches these filters.")
    queue.shows_only(format_="All formats")
    expect(queue.item(message_id)).to_be_visible()
    expect(page.locator("#queue-status")).to_have_text("1 item shown, oldest first.")
    assert page.evaluate("history.length") == history
    expect(page).to_have_url(path_is("/queue"))

    review = queue.reviews_oldest()
    assert review.letter_text() == "Words for the person harmed."
    expect(page.locator("#review-state")).to_have_text("Being reviewed by you")


@pytest.mark.browser
def test_a_decision_asks_for_its_words_first_then_names_the_people(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)  # the person harmed is Alex, the person responsible Sam
    case.letter_waiting_for_review("Words.")
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    review = QueuePage(page).visit(live_server.url("/queue")).reviews_oldest()
    expect(page.locator("#review-to")).to_have_text("Alex (person harmed)")
    expect(page.locator("#review-from")).to_have_text("Sam (person responsible)")

    page.get_by_role("radio", name="Withhold it: it will not be passed on").check()
    page.get_by_role("button", name="Continue", exact=True).click()
    reason = page.get_by_label("Reason, for the writer")
    expect(reason).to_be_focused()
    expect(page.locator("#withhold-reason-error")).to_have_text("Write the reason, for the writer.")
    expect(page.get_by_role("dialog")).to_be_hidden()
    review.check()

    reason.fill("It would do harm now.")
    page.get_by_role("button", name="Continue", exact=True).click()
    dialog = page.get_by_role("dialog", name="Withhold this letter?")
    expect(dialog).to_contain_text(
        "It will not be passed on to Alex, and this cannot be undone. Sam will see your reason."
    )
    review.check()
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#review-state")).to_have_text("Being reviewed by you")

    page.get_by_role("button", name="Stop reviewing").click()
    expect(page).to_have_url(path_is("/queue"))
    queue = QueuePage(page).arrived()
    expect(queue.items).to_contain_text("Waiting for review")


@pytest.mark.browser
def test_a_held_letter_is_offered_again_in_place(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)  # the person harmed is Alex
    message_id = case.approved_letter("Words.")
    held = case.harmed.post_json(f"/api/inbox/{message_id}/hold")
    assert held.status_code == 200, held.text
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    review = ReviewPage.open(page, live_server.url(f"/review/{message_id}"))
    expect(page.locator("#review-state")).to_have_text("Held at the recipient's request")
    expect(review.decision.get_by_role("button")).to_have_text(["Offer it again"])

    review.offers_it_again()
    expect(review.decision).to_contain_text(
        "The letter is offered to Alex again. They decide whether and when to open it."
    )
    expect(review.decision.get_by_role("button")).to_have_count(0)
    expect(page.locator("#review-state")).to_have_text("Approved, waiting for the recipient")
    said = page.get_by_role("status").filter(has_text="offered to the recipient again")
    expect(said).to_be_visible()
    expect(page).to_have_url(path_is(f"/review/{message_id}"))
