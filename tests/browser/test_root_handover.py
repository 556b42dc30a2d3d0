"""Handing the service's root over in the browser: the root chooses a certified service
manager, its browser signs the hand-over after walking the trust log itself, and the new
root's browser, which pinned the first root when it joined, follows the log to itself and can
hand the root on in turn."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from portal.trust.models import ServiceRoot
from tests.browser.pages.sign_in import SignInPage
from tests.browser.pages.staff import CertifyPage
from tests.browser.support.backstage import Backstage
from tests.browser.support.devices import NewContext
from tests.support.live_server import LiveServer


def _root_id(backstage: Backstage) -> str:
    with Session(backstage.engine) as db:
        root = db.get(ServiceRoot, 1)
        assert root is not None
        return root.account_id


@pytest.mark.browser
def test_the_root_hands_over_and_the_new_root_browser_follows_the_log(
    page: Page, live_server: LiveServer, backstage: Backstage, new_context: NewContext
) -> None:
    morgan = backstage.service_manager("morgan")
    riley = backstage.service_manager("riley")  # certified by morgan, the root

    home = SignInPage.open(page, live_server.base_url).signs_in(morgan.name, morgan.password)
    certify = CertifyPage.opened_from_home(home)
    assert certify.root_candidates() == ["riley"]
    certify.hands_over_the_root_to("riley")
    assert _root_id(backstage) == riley.account_id
    # The former root is told who the root is now, and offered nothing.
    page.reload()
    expect(certify.root_part).to_contain_text("The service's root is “riley”")
    expect(certify.root_part.get_by_role("button", name="Hand over the root")).to_have_count(0)

    # Riley's browser pinned morgan as the root when riley joined: its own walk of the log must
    # lead from morgan to riley for its sealer to sign anything as the root.
    other = new_context().new_page()
    riley_home = SignInPage.open(other, live_server.base_url).signs_in(riley.name, riley.password)
    riley_certify = CertifyPage.opened_from_home(riley_home)
    assert riley_certify.root_candidates() == ["morgan"]
    riley_certify.hands_over_the_root_to("morgan")
    assert _root_id(backstage) == morgan.account_id
