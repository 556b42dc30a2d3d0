"""What every portal page has: the quick exit; and, when signed in, the header and the warning
before an idle session ends."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Self

from playwright.sync_api import Locator, expect

from tests.support.browser import PageObject
from tests.support.env import QUICK_EXIT_URL

if TYPE_CHECKING:
    from tests.browser.pages.account import AccountPage
    from tests.browser.pages.home import HomePage
    from tests.browser.pages.invitations import InvitationsPage
    from tests.browser.pages.sign_in import SignInPage
    from tests.browser.pages.withdraw import WithdrawPage


def path_is(path: str) -> re.Pattern[str]:
    """A URL pattern for ``expect(page).to_have_url``: this path (and query), any origin."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"$")


def shown_qr(folded: Locator) -> str:
    """Unfold a security number's QR code and return its drawing (the SVG path), so that two
    screens can be compared as a camera would."""
    folded.get_by_text("Show it as a QR code").click()
    code = folded.get_by_role("img")
    expect(code).to_be_visible()
    return code.locator("path").get_attribute("d") or ""


class PortalPage(PageObject):
    """A page of the portal, known by its main heading."""

    heading: ClassVar[str] = ""

    def arrived(self) -> Self:
        """Wait until this page is on screen and loaded, then check it.

        The heading shows before the page has finished loading when the page is reached by
        location.replace() (as every move inside the portal is): on a busy machine axe could
        then measure the page without its style sheet, and a key pressed could come before
        static/js/lib/quick-exit.js listens for it. The load event comes after both.
        """
        expect(self.page.get_by_role("heading", level=1, name=self.heading)).to_be_visible()
        self.page.wait_for_load_state("load")
        return self.check()

    # -- quick exit --------------------------------------------------------------------------

    @property
    def leave_button(self) -> Locator:
        return self.page.get_by_role("button", name="Leave this site")

    def leaves_with_the_button(self) -> NeutralSite:
        self.leave_button.click()
        return NeutralSite(self.page).arrived()

    def leaves_by_pressing_shift_three_times(self) -> NeutralSite:
        for _ in range(3):
            self.page.keyboard.press("Shift")
        return NeutralSite(self.page).arrived()

    def presses_tab(self) -> None:
        self.page.keyboard.press("Tab")


class SignedInPage(PortalPage):
    """A page seen while signed in: main navigation, "Sign out", the idle-session warning."""

    @property
    def navigation(self) -> Locator:
        return self.page.get_by_role("navigation", name="Main")

    def goes_home(self) -> HomePage:
        from tests.browser.pages.home import HomePage

        self.navigation.get_by_role("link", name="Home", exact=True).click()
        return HomePage(self.page).arrived()

    def opens_their_account(self) -> AccountPage:
        from tests.browser.pages.account import AccountPage

        self.navigation.get_by_role("link", name="Your account").click()
        return AccountPage(self.page).arrived()

    def opens_invitations(self) -> InvitationsPage:
        from tests.browser.pages.invitations import InvitationsPage

        self.navigation.get_by_role("link", name="Invitations").click()
        return InvitationsPage(self.page).arrived()

    def opens_withdraw(self) -> WithdrawPage:
        """A participant's "Withdraw from the process" link, in the header."""
        from tests.browser.pages.withdraw import WithdrawPage

        self.navigation.get_by_role("link", name="Withdraw from the process").click()
        return WithdrawPage(self.page).arrived()

    def signs_out(self) -> SignInPage:
        from tests.browser.pages.sign_in import SignInPage

        self.page.get_by_role("button", name="Sign out", exact=True).click()
        expect(self.page).to_have_url(path_is("/sign-in?reason=signed-out"))
        return SignInPage(self.page).arrived()

    # -- the warning before an idle session ends ---------------------------------------------

    @property
    def session_warning(self) -> Locator:
        return self.page.get_by_role("dialog", name="Are you still there?")

    def is_asked_if_still_there(self) -> str:
        """Wait for the warning; the time left that it shows."""
        expect(self.session_warning).to_be_visible()
        self.check()
        countdown = self.session_warning.locator("[data-session-countdown]")
        expect(countdown).to_have_text(re.compile(r"\d+ seconds?$"))
        return countdown.inner_text()

    def stays_signed_in(self) -> Self:
        self.session_warning.get_by_role("button", name="Stay signed in").click()
        expect(self.session_warning).to_be_hidden()
        return self


class NeutralSite(PageObject):
    """Where quick exit goes: a harmless page of another site."""

    def arrived(self) -> Self:
        expect(self.page).to_have_url(QUICK_EXIT_URL)
        expect(self.page.get_by_role("heading", name="Weather forecast")).to_be_visible()
        return self
