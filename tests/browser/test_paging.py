"""Long lists in pages, in a real browser: the review queue's pager swaps the list in place with
htmx (no new history entry, the status region says which items are shown, the filters kept),
and the audit trail's pager moves through its pages as plain links. No CSP violation on the
way (the browser fixture fails the test on any)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.messages.services import QUEUE_PAGE
from portal.workspace.services import AUDIT_PAGE
from tests.browser.pages.letters import AuditTrailPage, QueuePage, facilitator_signs_in
from tests.browser.pages.portal import path_is
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.live_server import LiveServer

# Three pages of the queue (the middle one has both ways), and enough events for the audit
# trail to need two pages (each letter sent records one).
LETTERS = 2 * QUEUE_PAGE + 3


@pytest.mark.browser
def test_the_queue_and_the_audit_trail_turn_their_pages(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    ids = [case.letter_waiting_for_review(f"Letter {n}.") for n in range(LETTERS)]
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    queue = QueuePage(page).visit(live_server.url("/queue")).arrived()
    history = page.evaluate("history.length")

    # The first page: the oldest QUEUE_PAGE items, and a way on but not back.
    expect(queue.rows).to_have_count(QUEUE_PAGE)
    expect(queue.item(ids[0])).to_be_visible()
    expect(queue.pager.get_by_text("Page 1 of 3")).to_be_visible()
    expect(queue.pager.get_by_role("link", name="Earlier items")).to_have_count(0)

    queue.turns_to("Later items")
    expect(queue.rows).to_have_count(QUEUE_PAGE)
    expect(queue.item(ids[QUEUE_PAGE])).to_be_visible()
    expect(queue.item(ids[0])).to_have_count(0)
    expect(page.locator("#queue-status")).to_have_text(
        f"Items {QUEUE_PAGE + 1} to {2 * QUEUE_PAGE} of {LETTERS} shown, oldest first"
        " (page 2 of 3)."
    )
    expect(queue.pager.get_by_text("Page 2 of 3")).to_be_visible()
    queue.turns_to("Later items")
    expect(queue.rows).to_have_count(LETTERS - 2 * QUEUE_PAGE)
    expect(queue.item(ids[-1])).to_be_visible()
    expect(queue.pager.get_by_text("Page 3 of 3")).to_be_visible()
    expect(queue.pager.get_by_role("link", name="Later items")).to_have_count(0)
    # Swapped in place: the address and the history are those of the queue as it was opened.
    expect(page).to_have_url(path_is("/queue"))
    assert page.evaluate("history.length") == history

    queue.turns_to("Earlier items")
    expect(queue.item(ids[QUEUE_PAGE])).to_be_visible()
    expect(page.locator("#queue-status")).to_have_text(
        f"Items {QUEUE_PAGE + 1} to {2 * QUEUE_PAGE} of {LETTERS} shown, oldest first"
        " (page 2 of 3)."
    )

    # A filter, then the pager: the next page keeps it.
    queue.shows_only(format_="Letter")
    expect(queue.pager.get_by_text("Page 1 of 3")).to_be_visible()
    queue.turns_to("Later items")
    expect(queue.pager.get_by_text("Page 2 of 3")).to_be_visible()
    expect(queue.pager.get_by_role("link", name="Later items")).to_have_attribute(
        "href", "/queue?format=letter&state=waiting&page=3"
    )

    # The audit trail of the case: more than one page of events.
    page.goto(live_server.url(f"/cases/{case.case_id}/audit"))
    heading = page.get_by_role("heading", level=1).text_content() or ""
    audit = AuditTrailPage(page, heading.removeprefix("Audit trail of case ")).arrived()
    expect(audit.events).to_have_count(AUDIT_PAGE)
    position = audit.pager.get_by_text(re.compile(r"^Page 1 of \d+$"))
    expect(position).to_be_visible()
    pages = int((position.text_content() or "").rsplit(" ", 1)[1])
    first = audit.events.first.text_content()

    audit.turns_to("Later events")
    expect(page).to_have_url(path_is(f"/cases/{case.case_id}/audit?page=2"))
    expect(audit.pager.get_by_text(f"Page 2 of {pages}")).to_be_visible()
    expect(audit.events.first).not_to_have_text(first or "")
    audit.turns_to("Earlier events")
    expect(audit.pager.get_by_text(f"Page 1 of {pages}")).to_be_visible()
    expect(audit.events.first).to_have_text(first or "")
