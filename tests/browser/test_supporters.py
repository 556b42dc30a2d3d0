"""Supporters in the browser (issue 11, item 1): the facilitator adds a supporter for the
person harmed with their agreement and makes the invitation in the browser; the supporter joins;
their security number is compared in person; on approval the facilitator's browser grants the
letter to the supporter too; once the person harmed has opened it, the supporter reads exactly
what was written; the person harmed takes the access away and it is gone at once. A
representative writes for the person responsible, who reads it before it goes out once the
facilitator's browser lets them (the task on the facilitator's home), and the person harmed
reads it labelled."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import SignInPage
from tests.browser.pages.letters import (
    UNLOCK_MS,
    CasePage,
    NotFoundPage,
    ParticipantHome,
    facilitator_signs_in,
    participant_signs_in,
)
from tests.browser.pages.media import MediaReviewPage
from tests.browser.pages.supporters import (
    AskingForSomeone,
    PeopleWhoSupportMe,
    SupporterHome,
    SupportersOnCasePage,
    supporter_joins,
)
from tests.browser.support.backstage import new_password
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer

LETTER = "I am sorry for what happened.\n\nI think about it often."


@pytest.mark.browser
def test_a_supporter_is_invited_joins_reads_what_was_opened_and_loses_access_at_once(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    browser_guard: BrowserGuard,
) -> None:
    # The supporter's page asked for after their access was taken away: a 404, on purpose.
    browser_guard.expect("console", r"status of 404")
    case = seed_case(portal)
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    harmed_name = case_page.page.locator(
        '.participant [data-sealed="participant-name"]'
    ).first.inner_text()
    supporters = SupportersOnCasePage(case_page, harmed_name)
    supporters.adds("Jo Friend")
    invitation = supporters.invites("Jo Friend")

    supporter_page = new_context().new_page()
    supporter_home = supporter_joins(supporter_page, invitation.join_link, "jo f", new_password())
    expect(supporter_home.summary).to_contain_text("supporter for the person harmed")

    case_page = case_page.reloads()
    supporters = SupportersOnCasePage(case_page, harmed_name)
    expect(supporters.access_of("Jo Friend")).to_contain_text("Has access since")
    supporters.compared_in_person("Jo Friend")

    # The letter is approved in the browser, which grants it to the supporter whose key the
    # facilitator compared (the person harmed's key was not compared in this seeded case).
    message_id = case.letter_waiting_for_review(LETTER)
    case_page.opens_review_queue().reviews_oldest()
    MediaReviewPage(page).arrived().approves_unverified()

    # Nothing for the supporter until the person harmed chooses to open it.
    expect(supporter_home.reloads().readable).to_have_count(0)
    harmed_page = new_context().new_page()
    harmed_home = participant_signs_in(
        harmed_page, live_server.base_url, case.harmed.name, case.harmed.password
    )
    harmed_home.sees_choices_for_waiting_item().opens_it_now()
    supporter_home = supporter_home.reloads()
    expect(supporter_home.readable).to_have_count(1)
    assert supporter_home.reads_latest() == [
        "I am sorry for what happened.",
        "I think about it often.",
    ]

    # The person harmed sees who has access, and takes it away.
    harmed_page.goto(live_server.url("/home"))
    PeopleWhoSupportMe(ParticipantHome(harmed_page).arrived()).takes_away_access()
    NotFoundPage(supporter_page).visit_expecting_404(live_server.url(f"/supporting/{message_id}"))
    supporter_page.goto(live_server.url("/home"))
    expect(supporter_page.locator("#home-summary")).to_contain_text("Access taken away on")


@pytest.mark.browser
def test_a_representative_writes_for_the_person_responsible_labelled_on_every_page(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    browser_guard: BrowserGuard,
) -> None:
    case = seed_case(portal)
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    responsible_name = "Sam"  # CaseWorld's person responsible
    supporters = SupportersOnCasePage(case_page, responsible_name)
    supporters.adds("Kim Advocate", representative=True, may_write=True)
    invitation = supporters.invites("Kim Advocate")

    writer_page = new_context().new_page()
    writer_home = supporter_joins(writer_page, invitation.join_link, "kim a", new_password())
    expect(writer_home.summary).to_contain_text("representative for the person responsible")

    # Sending waits for a facilitator's browser: opening the case page hands over the key.
    case_page = case_page.reloads()
    case_page.sees_case_key_given()
    case_page.compared_in_person(responsible_name)

    composer = writer_home.reloads().writes_for_them()
    composer.writes(LETTER)
    sent = composer.sends()
    expect(writer_page.locator("#letter-on-behalf")).to_have_text(
        "You wrote this for the person responsible."
    )
    expect(sent.where_it_is).to_contain_text("Sent to your facilitator")

    # The person responsible reads it before it goes out, once a facilitator's browser that
    # compared their key lets them: comparing it on the case page is the moment.
    responsible_page = new_context().new_page()
    responsible_home = participant_signs_in(
        responsible_page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    theirs = responsible_home.opens_letter()
    expect(theirs.written_for_me_label).to_have_text("Written for you by your representative.")
    expect(responsible_page.locator("#written-for-you-waiting")).to_contain_text(
        "once your facilitator next opens your case"
    )
    case_page = case_page.goes_to_facilitator_home().lets_read_what_was_written_for(
        "person responsible"
    )
    expect(case_page.status_message).to_contain_text(
        "Your browser let 1 person read what was written for them.", timeout=UNLOCK_MS
    )
    theirs = theirs.reloads()
    expect(theirs.written_for_me_label).to_have_text("Written for you by your representative.")
    expect(responsible_page.locator("#written-for-you")).to_contain_text("you can stop it below")
    assert theirs.reads_what_was_written_for_me() == [
        "I am sorry for what happened.",
        "I think about it often.",
    ]

    case_page.opens_review_queue().reviews_oldest()
    review = MediaReviewPage(page).arrived()
    expect(page.locator("#review-on-behalf")).to_have_text(
        "Written by the person responsible's representative on their behalf"
    )
    review.approves_unverified()

    harmed_page = new_context().new_page()
    harmed_home = participant_signs_in(
        harmed_page, live_server.base_url, case.harmed.name, case.harmed.password
    )
    inbox = harmed_home.sees_choices_for_waiting_item()
    expect(harmed_page.locator("#item-written-by")).to_have_text(
        "Written on behalf of the person responsible by their representative"
    )
    assert inbox.opens_it_now() == ["I am sorry for what happened.", "I think about it often."]


@pytest.mark.browser
def test_a_representative_holds_the_side_of_someone_without_an_account(
    page: Page,
    live_server: LiveServer,
    portal: Portal,
    new_context: NewContext,
    browser_guard: BrowserGuard,
) -> None:
    case = seed_case(portal)
    kai = case.world.add_without_access("person_responsible", "Kai")
    facilitator_signs_in(
        page, live_server.base_url, case.facilitator.name, case.facilitator.password
    )
    case_page = CasePage.open(page, live_server.url(f"/cases/{case.case_id}"))
    supporters = SupportersOnCasePage(case_page, "Kai")
    supporters.adds("Rae Advocate", representative=True)
    invitation = supporters.invites("Rae Advocate")
    representative_page = new_context().new_page()
    representative_home = supporter_joins(
        representative_page, invitation.join_link, "rae a", new_password()
    )
    case_page = case_page.reloads()
    SupportersOnCasePage(case_page, "Kai").compared_in_person("Rae Advocate")

    # A letter for Kai is offered to their representative, whose key was compared in person.
    case.world.write_letter(case.harmed, LETTER, to=kai)
    case_page.opens_review_queue().reviews_oldest()
    MediaReviewPage(page).arrived().approves()
    inbox = representative_home.reloads().opens_waiting_item()
    assert inbox.opens_it_now() == ["I am sorry for what happened.", "I think about it often."]


@pytest.mark.browser
def test_the_supporter_home_and_asking_for_someone_fit_a_phone(
    page: Page, live_server: LiveServer, portal: Portal, new_context: NewContext
) -> None:
    case = seed_case(portal)
    representative, _place = case.world.add_writer(case.harmed, kind="representative")
    SignInPage.open(page, live_server.base_url).signs_in(
        representative.name, representative.password
    )
    SupporterHome(page).arrived().fits_a_phone()

    responsible_page = new_context().new_page()
    responsible_home = participant_signs_in(
        responsible_page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    asking = AskingForSomeone(responsible_home).opens_the_form().fits_a_phone()
    asking.asks_for_a_representative_who_may_write().fits_a_phone()
