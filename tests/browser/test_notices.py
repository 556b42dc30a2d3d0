"""Notices by e-mail in a real browser, at 320 px with axe: turning them on from "Your
account", a refusal said beside its field, a test notice reaching a real SMTP server, and
turning them off, which deletes the address."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from portal.db import make_session_factory, utcnow
from portal.notifications import outbox
from portal.notifications.models import NoticePreference
from tests.browser.pages import SignInPage
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
