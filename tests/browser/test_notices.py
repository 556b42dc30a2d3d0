"""Notices by e-mail in a real browser, at 320 px with axe: turning them on from "Your
account", a refusal said beside its field, a test notice reaching a real SMTP server, and
turning them off, which deletes the address; and "What happened lately" on the home, with no
mail server, and the whole list it links to."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from portal.db import make_session_factory, utcnow
from portal.notifications import outbox, services
from portal.notifications.models import NoticeEvent, NoticePreference
from tests.browser.pages import SignInPage
from tests.browser.pages.entered import fits_320
from tests.browser.support.backstage import Backstage
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer, LiveServerFactory
from tests.support.smtp import SmtpServer


@pytest.mark.browser
def test_a_person_turns_notices_on_gets_a_test_and_turns_them_off_on_a_phone(
    page: Page,
    live_server_factory: LiveServerFactory,
    backstage_of: Callable[[LiveServer], Backstage],
    smtp_server: SmtpServer,
    browser_guard: BrowserGuard,
) -> None:
    server = live_server_factory(**smtp_server.env())
    backstage = backstage_of(server)
    manager = backstage.service_manager()
    page.set_viewport_size({"width": 320, "height": 640})
    home = SignInPage.open(page, server.base_url).signs_in(manager.name, manager.password)

    # The refused address is a 400 on purpose.
    browser_guard.expect("console", r"status of 400")
    notices = home.opens_their_account().opens_notices()
    notices.fits_a_phone()
    notices.asks_for_notices("not an address")
    expect(notices.field_error("E-mail address")).to_have_text(
        "Enter one e-mail address, such as name@example.org."
    )
    notices.asks_for_notices("morgan@mail.example", each=True, quiet=("22:00", "07:00"))
    expect(notices.notice).to_have_text("Saved. We will e-mail you as you chose.")
    notices.fits_a_phone()
    notices.sends_a_test()

    # The live server's runner waits its first minutes: this test runs it now.
    sessions = make_session_factory(backstage.engine)
    assert outbox.send_due(sessions, backstage.settings, utcnow()).sent == 1
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ("morgan@mail.example",)
    assert f"{server.base_url}/sign-in" in mail.message.get_content()

    notices.turns_them_off()
    expect(page.get_by_role("button", name="Turn notices on")).to_be_visible()
    with sessions() as db:
        assert db.get(NoticePreference, manager.account_id) is None


@pytest.mark.browser
def test_the_home_lists_what_happened_lately_with_dates_on_a_phone_without_mail(
    page: Page, live_server: LiveServer, backstage_of: Callable[[LiveServer], Backstage]
) -> None:
    backstage = backstage_of(live_server)
    manager = backstage.service_manager()
    with make_session_factory(backstage.engine)() as db:
        assert backstage.settings.smtp is None
        for event in (NoticeEvent.KEY_TO_VERIFY, NoticeEvent.SECURITY_EVENT):
            services.queue(db, backstage.settings, [manager.account_id], event)
        db.commit()
    page.set_viewport_size({"width": 320, "height": 640})
    home = SignInPage.open(page, live_server.base_url).signs_in(manager.name, manager.password)

    lines = home.what_happened_lately()
    # The two queued, and this very sign-in: the manager was made behind the scenes, so this
    # Chromium is a browser their account never used (portal/accounts/browsers.py).
    expect(lines).to_have_count(3)
    expect(lines.first).to_contain_text("A sign-in from a browser not used before")
    expect(lines.nth(1)).to_contain_text("A security event on your account")
    expect(lines.nth(1).locator("time")).to_have_attribute(
        "datetime", re.compile("^" + utcnow().date().isoformat())
    )
    fits_320(page)
    home.check()
    notices = home.opens_everything_that_happened()
    expect(page.get_by_role("region", name="What happened lately")).to_contain_text(
        "A key needs comparing in person"
    )
    notices.fits_a_phone()
