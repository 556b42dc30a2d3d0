"""Domain errors and their one mapping to HTTP.

    PortalError                    (400)
    ├── BadInput                   (400)  malformed or missing fields
    ├── NotSignedIn                (401)
    ├── Forbidden                  (403)  signed in, but this is not theirs
    ├── NotFound                   (404)
    ├── Conflict                   (409)  e.g. a sign-in name already taken
    ├── Gone                       (410)  an expired, used or revoked invitation
    ├── TooLarge                   (413)  over a size limit or quota; nothing was kept
    ├── CsrfRejected               (403)
    ├── WrongCredentials           (401)
    └── Throttled                  (429)  carries retry_after seconds

Messages are plain sentences meant for the person using the portal; they never contain
content, keys or the value that was rejected.
"""

from __future__ import annotations


class PortalError(Exception):
    status_code = 400
    # Most errors undo the whole request. A failed or throttled sign-in must still keep its
    # failure count and audit row, or throttling would never hold.
    keeps_changes = False
    default_message = "Something in that request was not right."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class BadInput(PortalError):
    status_code = 400
    default_message = "Some of the information sent was missing or not in the right form."


class NotSignedIn(PortalError):
    status_code = 401
    default_message = "Please sign in to continue."


class Forbidden(PortalError):
    status_code = 403
    default_message = "You do not have access to this page."


class NotFound(PortalError):
    status_code = 404
    default_message = "We could not find that page."


class Conflict(PortalError):
    status_code = 409
    default_message = "That could not be done because something else changed first."


class Gone(PortalError):
    status_code = 410
    default_message = "This code has expired or has already been used."


class TooLarge(PortalError):
    status_code = 413
    default_message = "That was too large to send. Nothing was saved."


class CsrfRejected(PortalError):
    status_code = 403
    default_message = "This form was out of date. Please reload the page and try again."


class WrongCredentials(PortalError):
    status_code = 401
    keeps_changes = True
    default_message = "That name and password do not match. Check them and try again."


class Throttled(PortalError):
    status_code = 429
    keeps_changes = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SecondFactorDue(PortalError):
    """The session proved the password but still owes its second factor (``step`` "verify"),
    or belongs to staff who must add one first (``step`` "enrol"): portal/factors/gate.py."""

    status_code = 403
    default_message = "Please confirm it is you with your second factor first."

    def __init__(self, step: str) -> None:
        super().__init__(
            self.default_message
            if step == "verify"
            else "Please add a second factor to your account before you go on."
        )
        self.step = step


class WrongSecondFactor(PortalError):
    status_code = 401
    keeps_changes = True  # the failure is counted and audited, or throttling would never hold
    default_message = "That code did not work. Check it and try again."
