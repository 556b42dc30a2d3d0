"""Page objects: what a person does on each page of the portal, in their words.

Every method that brings the person somewhere new (a page, a step of a flow, an htmx swap)
waits until it is on screen and runs the accessibility check on it.
"""

from tests.browser.pages.account import AccountPage, PasswordPage, SessionsPage
from tests.browser.pages.home import HomePage
from tests.browser.pages.invitations import InvitationsPage, IssuedInvitation
from tests.browser.pages.join import Joined, JoinPage, SetupPage
from tests.browser.pages.portal import NeutralSite, PortalPage, SignedInPage
from tests.browser.pages.recover import RecoverPage
from tests.browser.pages.sign_in import SignInPage
from tests.browser.pages.withdraw import WithdrawPage

__all__ = [
    "AccountPage",
    "HomePage",
    "InvitationsPage",
    "IssuedInvitation",
    "JoinPage",
    "Joined",
    "NeutralSite",
    "PasswordPage",
    "PortalPage",
    "RecoverPage",
    "SessionsPage",
    "SetupPage",
    "SignInPage",
    "SignedInPage",
    "WithdrawPage",
]
