"""Anonymous feedback in real browsers: once the case closes, the person harmed is offered the
form on their 320 px phone, answers and writes a canary, sealed in their browser to the
service's referral key; the canary never reaches the database in clear; the service manager
reads it on "What participants said" in their own browser, and finds the figures' charts on
screen and in the print view. Someone else says no thank you and is not asked again. axe runs
on each page."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.feedback.models import FeedbackAnswer, Reply, RoleCategory
from portal.settings import Settings
from tests.browser.pages.feedback import (
    FeedbackForm,
    PrintedFigures,
    WhatParticipantsSaid,
    dismisses_feedback,
)
from tests.browser.pages.letters import participant_signs_in
from tests.browser.pages.reports import FiguresPage
from tests.browser.pages.sign_in import SignInPage
from tests.browser.support.devices import NewContext
from tests.browser.support.letters_backstage import seed_case
from tests.factories import Portal
from tests.http.test_feedback import close
from tests.http.test_referrals import set_up
from tests.support import leaks
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_participant_gives_feedback_that_only_the_service_manager_reads(
    page: Page,
    new_context: NewContext,
    live_server: LiveServer,
    portal: Portal,
    settings: Settings,
) -> None:
    service = set_up(portal)  # the root holds the referral key
    case = seed_case(portal)
    close(case.world)
    canary = f"canary-{secrets.token_hex(6)}"

    page.set_viewport_size({"width": 320, "height": 640})
    home = participant_signs_in(page, live_server.base_url, case.harmed.name, case.harmed.password)
    form = FeedbackForm.opened_from_home(home)
    form.answers("Are you satisfied with how the process went?", "Yes")
    form.answers("Do you feel safer, or better able to move on?", "Partly")
    form.writes(f"It helped me more than I expected. {canary}").sends()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    with portal.db() as db:
        [kept] = db.scalars(select(FeedbackAnswer)).all()
        assert (kept.role, kept.satisfied, kept.recommend, kept.better_able) == (
            RoleCategory.PERSON_HARMED,
            Reply.YES,
            None,
            Reply.PARTLY,
        )
        assert kept.sealed_text is not None
    assert leaks.find({"canary": canary.encode()}, settings.database_url, [settings.data_dir]) == []

    manager_page = new_context().new_page()
    SignInPage.open(manager_page, live_server.base_url).signs_in(
        service.manager.name, service.manager.password
    )
    manager_page.get_by_role("link", name="Figures for the service").click()
    figures = FiguresPage(manager_page).arrived()
    expect(
        manager_page.get_by_role("img", name="Satisfied with the process: the share who said yes")
    ).to_be_visible()
    said = WhatParticipantsSaid.opened_from(figures).unlocked()
    expect(said.texts).to_have_count(1)
    expect(said.texts.first).to_have_text(f"It helped me more than I expected. {canary}")

    printed = PrintedFigures.opened_from(said.back_to_the_figures())
    expect(printed.chart("Referrals by month")).to_be_visible()
    expect(manager_page.get_by_role("button", name="Leave this site")).to_have_count(0)


@pytest.mark.browser
def test_a_participant_says_no_thank_you_and_is_not_asked_again(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    case = seed_case(portal)
    close(case.world)
    page.set_viewport_size({"width": 320, "height": 640})
    home = participant_signs_in(
        page, live_server.base_url, case.responsible.name, case.responsible.password
    )
    dismisses_feedback(home)
    home.reloads()
    expect(page.locator("#feedback-offer")).to_have_count(0)
