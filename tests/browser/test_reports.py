"""A service manager reads the service's figures on a phone and chooses their period."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import SignInPage
from tests.browser.pages.reports import FiguresPage
from tests.factories import Portal
from tests.support.live_server import LiveServer


@pytest.mark.browser
def test_a_manager_reads_the_figures_for_a_period_on_a_320_px_phone(
    page: Page, live_server: LiveServer, portal: Portal
) -> None:
    manager = portal.service_manager()
    page.set_viewport_size({"width": 320, "height": 640})
    SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)
    page.get_by_role("link", name="Figures for the service").click()
    figures = FiguresPage(page).arrived().shows_period("2027-01-01", "2027-03-31")
    expect(figures.figure("Referrals")).to_contain_text("fewer than 5")
    expect(figures.figure("Time to first contact")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
