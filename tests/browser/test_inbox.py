"""What waits for the person harmed: the choices the server offers on the inbox page, each an htmx
form (not yet, hold, decline after one confirm step, read again), on a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, ViewportSize, expect

from portal import protocol
from tests.browser.pages.letters import (
    ParticipantHome,
    as_paragraphs,
    facilitator_signs_in,
    participant_signs_in,
)
from tests.browser.pages.media import PLAY_MS, MediaInboxPage
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer
from tests.support.media import pdf, png

PASSED_ON = "Your facilitator has passed on something for you."
KEPT = "Your facilitator is keeping something for you."
PHONE = ViewportSize(width=320, height=640)
NETWORK_MESSAGE = "We could not reach the portal. Check your connection and try again."


def fits_the_screen(page: Page) -> bool:
    """Nothing on the page reaches beyond a phone's 320 px (no sideways scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= PHONE["width"]


@pytest.mark.browser
def test_not_yet_hold_and_decline_each_go_home_with_what_changed(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    page.set_viewport_size(PHONE)
    case = seed_case(portal)
    case.approved_letter("I am sorry.", note="A short letter.")
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    assert fits_the_screen(page)
    entries = page.evaluate("history.length")

    # Not yet: nothing changes, and they are home again.
    inbox = home.sees_choices_for_waiting_item()
    assert inbox.note() == ["A short letter."]
    expect(inbox.choices).to_have_text(
        ["Open it now", "Not yet", "Ask my facilitator to hold it", "I do not want to receive it"]
    )
    assert fits_the_screen(page)
    home = inbox.not_yet()
    expect(home.waiting_items.first).to_contain_text(PASSED_ON)

    # Hold: kept by the facilitator; the page then offers only declining, and no note.
    home = home.sees_choices_for_waiting_item().asks_to_hold_it()
    expect(home.waiting_items.first).to_contain_text(KEPT)
    inbox = home.sees_choices_for_waiting_item()
    expect(inbox.choices).to_have_text(["I do not want to receive it"])
    expect(inbox.note_box).to_have_count(0)

    # Decline asks once; going back changes nothing.
    inbox.goes_back_from_declining()
    expect(inbox.choices).to_have_text(["I do not want to receive it"])
    home = inbox.declines()
    expect(home.waiting_items).to_have_count(0)
    # Every move replaced the one history entry: nothing of it is behind the Back button.
    assert page.evaluate("history.length") == entries

    # The facilitator sees the decline first, as a task, and records telling its writer.
    theirs = new_context().new_page()
    theirs.set_viewport_size(PHONE)
    f = case.facilitator
    facilitator_home = facilitator_signs_in(theirs, live_server.base_url, f.name, f.password)
    expect(facilitator_home.declines_to_tell).to_have_count(1)
    assert fits_the_screen(theirs)
    facilitator_home.tells_the_writer_of_a_decline()
    expect(facilitator_home.goes_home().page.locator("#declines-to-tell")).to_have_count(0)


@pytest.mark.browser
def test_opened_letter_can_be_read_again_on_a_phone(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    page.set_viewport_size(PHONE)
    case = seed_case(portal)
    text = "I am sorry.\n\nI would like to explain, if you ever want to hear it."
    case.approved_letter(text)
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)

    inbox = home.sees_choices_for_waiting_item()
    assert inbox.opens_it_now() == as_paragraphs(text)
    assert fits_the_screen(page)
    expect(inbox.choices).to_have_count(0)  # opened: the choices no longer apply

    home = ParticipantHome(page).visit(live_server.url("/home")).arrived()
    inbox = home.goes_to_opened_item()
    expect(inbox.choices).to_have_text(["Read it again"])
    assert inbox.reads_it_again() == as_paragraphs(text)
    assert fits_the_screen(page)


@pytest.mark.browser
def test_scanned_letter_opens_with_its_pages_on_a_phone(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    page.set_viewport_size(PHONE)
    case = seed_case(portal)
    scans = [
        protocol.Part(
            kind="page", mime="image/png", name="page-1.png", data=png(900, 1200, seed=1)
        ),
        protocol.Part(kind="page", mime="application/pdf", name="letter.pdf", data=pdf("Sorry")),
    ]
    message_id = case.world.write_media_message(
        case.responsible,
        "My letter is in the pages below.",
        scans,
        format_="letter",
        length={"pages": 2},
    )
    case.approve(message_id)
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)

    inbox = MediaInboxPage(page)
    home.sees_choices_for_waiting_item()
    assert "2 pages" in inbox.item_length()
    inbox.opens_media_now()
    expect(page.get_by_role("img", name="Page 1 of 2")).to_be_visible(timeout=PLAY_MS)
    expect(page.get_by_role("button", name="Open the PDF")).to_be_visible(timeout=PLAY_MS)
    assert fits_the_screen(page)


@pytest.mark.browser
def test_a_letter_that_could_not_be_shown_after_opening_can_be_tried_again(
    page: Page, live_server: LiveServer, portal: Portal, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", "ERR_INTERNET_DISCONNECTED|ERR_FAILED")
    case = seed_case(portal)
    case.approved_letter("I am sorry.")
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    inbox = home.sees_choices_for_waiting_item()

    # The connection drops just after the server handed the letter over: the key's second
    # look-up (the first is before the request that opens it) does not reach the portal.
    asked: list[str] = []

    def drop_the_second(route: Route) -> None:
        asked.append(route.request.url)
        if len(asked) == 2:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/session", drop_the_second)
    assert inbox.opens_it_but_it_cannot_be_shown() == NETWORK_MESSAGE
    assert inbox.tries_again() == ["I am sorry."]
