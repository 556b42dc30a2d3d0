"""A case's records in the browser (issue 12, item 2): a facilitator writes a risk assessment, a
note and an agreement item on a 320 px phone, each sealed in the browser to the case key, reads
them back unlocked after a reload, finds the item on their home, agrees a new due date for it
(the same day refused where it was typed), and at the outcome reads what was exchanged; the
canaries they wrote are nowhere on the server (database, data folder, logs). axe runs at every
step (page objects)."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal import local_time, protocol
from portal.cases import path
from portal.workspace import facilitator_home
from tests.browser.pages.case_records import CaseRecords
from tests.browser.pages.letters import facilitator_signs_in
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.http.test_casework import overdue_items
from tests.support import leaks
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_risk_note_and_agreement_are_sealed_read_back_and_followed_up(
    page: Page, live_server: LiveServer, portal: Portal, browser_guard: BrowserGuard
) -> None:
    browser_guard.expect("console", r"status of 400")  # the same due day, refused on purpose
    canaries = {name: f"canary{secrets.token_hex(8)}" for name in ("harmed", "note", "item")}
    case = seed_case(portal)
    released = case.world.write_letter(case.world.responsible, "I am sorry.")
    assert case.world.approve(released).status_code == 200
    page.set_viewport_size({"width": 320, "height": 640})
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    records = CaseRecords.open(page, live_server.url(f"/cases/{case.case_id}"))

    records.records_risk(
        "High",
        why="Domestic abuse",
        harmed=f"Lives two streets away. {canaries['harmed']}",
        responsible="",
        safeguarding="Meet at the office only.",
    )
    expect(records.risk_answer("Risks to the person harmed")).to_have_text(
        f"Lives two streets away. {canaries['harmed']}"
    )
    expect(records.risk_answer("Risks to the person responsible")).to_have_text("Not answered.")
    # High is the case's high-risk mark: the two-person approval section says so at once.
    expect(page.locator("#high-risk-text")).to_contain_text("high-risk (domestic abuse)")

    records.writes_note(f"Phoned the person harmed. {canaries['note']}")
    expect(records.notes.first).to_have_text(f"Phoned the person harmed. {canaries['note']}")

    due = (path.today() + timedelta(days=3)).isoformat()
    records.agrees("An apology", due, f"A letter of apology. {canaries['item']}")
    item = records.agreement_items.first
    expect(item).to_contain_text(f"A letter of apology. {canaries['item']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # The home follows it up; the case page reads everything back from the server, unlocked.
    home = records.goes_to_facilitator_home()
    follow_ups = page.get_by_role("region", name="Agreement follow-ups")
    expect(follow_ups).to_contain_text(f"Case {case.world.reference}: an apology, due")
    home.check()
    follow_ups.get_by_role("link", name=f"Case {case.world.reference}").click()
    records = CaseRecords(page).arrived()
    expect(records.risk_answer("Safeguarding steps")).to_have_text("Meet at the office only.")
    expect(records.notes.first).to_contain_text(canaries["note"])
    # Renegotiated: the same day is refused where it was typed, a new one keeps the first.
    refused = records.tries_new_due(records.agreement_items.first, due)
    expect(refused).to_have_text("It is already due on that day. Choose another date.")
    later = path.today() + timedelta(days=20)
    records.agrees_new_due(records.agreement_items.first, later.isoformat())
    expect(records.agreement_items.first).to_contain_text(
        f"due {local_time.calendar_day(later)} (first agreed for"
    )
    expect(records.agreement_items.first).to_contain_text(canaries["item"])
    records.marks_completed(records.agreement_items.first)
    expect(records.agreement_items.first).to_contain_text("completed on")
    expect(records.agreement_items.first).to_contain_text(canaries["item"])

    # At its outcome the case says what was exchanged, counted from what the server holds.
    records.records_stage("Outcome")
    records = CaseRecords.open(page, live_server.url(f"/cases/{case.case_id}"))
    exchanged = page.get_by_role("region", name="What was exchanged")
    expect(exchanged).to_contain_text("From the person responsible to the person harmed")
    expect(exchanged.get_by_role("row", name="Written letters")).to_contain_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    live_server.stop()
    folders = [live_server.data_dir, live_server.log_path.parent]
    needles = {name: value.encode() for name, value in canaries.items()}
    assert leaks.find(needles, live_server.database_url, folders) == []


@pytest.mark.browser
def test_the_home_links_to_every_follow_up_when_there_are_more_than_it_shows(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    shown = facilitator_home.FOLLOW_UPS_SHOWN
    overdue_items(case.world, shown + 1)
    page.set_viewport_size({"width": 320, "height": 640})
    home = facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    expect(home.follow_ups).to_have_count(shown)
    expect(home.follow_ups.first).to_contain_text(f"Case {case.world.reference}: an apology")
    every = home.opens_every_follow_up()
    expect(every.items).to_have_count(shown + 1)
    expect(every.items.last).to_contain_text("overdue since")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    every.items.first.get_by_role("link", name=f"Case {case.world.reference}").click()
    CaseRecords(page).arrived()


@pytest.mark.browser
def test_a_note_that_does_not_open_says_so_and_the_others_still_open(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    url = f"/api/cases/{case.case_id}/notes"
    # A breached server, or a damaged row: words that are not sealed to this case's key.
    damaged = case.facilitator.post_json(
        url, {"note_id": str(uuid.uuid4()), "text": protocol.b64encode(secrets.token_bytes(64))}
    )
    assert damaged.status_code == 200, damaged.text
    note_id = str(uuid.uuid4())
    sealed = protocol.seal_case_text(
        case.world.case_sk, case.case_id, f"facilitator-note:{note_id}", "Called the school."
    )
    assert case.facilitator.post_json(
        url, {"note_id": note_id, "text": protocol.b64encode(sealed)}
    ).is_success
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    records = CaseRecords(page)
    page.goto(live_server.url(f"/cases/{case.case_id}"))
    expect(records.notes.first).to_have_text("Called the school.")
    expect(records.notes.nth(1)).to_have_text("This could not be unlocked with the case's key.")
    records.check()
