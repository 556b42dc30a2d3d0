"""Withdrawing from the process: the withdraw page is a server-rendered htmx form, no script."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.pages.letters import ParticipantHome, participant_signs_in
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer

WITHDRAWN = (
    "You have withdrawn from the process. Your facilitator knows. Nothing will be passed on from"
    " you or to you."
)


@pytest.mark.browser
def test_participant_withdraws_and_home_says_so_and_holds_what_waited(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    case.approved_letter("I am sorry.")
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    expect(home.waiting_items).to_have_count(1)

    withdraw = home.opens_withdraw()
    entries = page.evaluate("history.length")
    withdraw.withdraws()

    home = ParticipantHome(page).arrived()
    expect(page.locator("#home-summary p").first).to_have_text(WITHDRAWN)
    # What waited for them is held now: kept by the facilitator, not shown.
    expect(home.waiting_items).to_have_count(1)
    expect(home.waiting_items.first).to_contain_text(
        "Your facilitator is keeping something for you."
    )
    # Replaced, not pushed: the withdraw page is not behind the Back button.
    assert page.evaluate("history.length") == entries


@pytest.mark.browser
def test_refused_withdrawal_is_said_on_the_page_and_can_be_tried_again(
    page: Page, live_server: LiveServer, portal: Portal, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 403")
    case = seed_case(portal)
    home = participant_signs_in(
        page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    withdraw = home.opens_withdraw()
    refusal = "This request could not be checked. Please reload the page and try again."

    def refuse(route: Route) -> None:
        route.fulfill(status=403, content_type="text/html", body=refusal)

    page.route("**/api/withdraw", refuse)
    assert withdraw.tries_to_withdraw() == refusal
    page.unroute("**/api/withdraw", refuse)

    withdraw.withdraws()
    ParticipantHome(page).arrived()
    expect(page.locator("#home-summary p").first).to_have_text(WITHDRAWN)
