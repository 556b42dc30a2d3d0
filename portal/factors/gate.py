"""The one place a session's owed second factor is enforced.

After the password, a session is "password only" (``SignInSession.second_factor_due``):
``verify`` when the account holds a factor, ``enrol`` for staff who hold none. Until it is
cleared, every endpoint refuses it (portal/web.py calls :func:`check` for every request,
streaming ones too) except those that name the step in ``before_second_factor``: the steps
themselves, the session's own status, signing out. Pages are sent to the step's page
(web._refusal), API calls get 403 JSON with ``second_factor`` set to the step. The steps'
names are accounts' (portal/accounts/steps.py), kept with the session that owes them, so
accounts' own endpoints name theirs without importing the second factor, which sits above.
"""

from __future__ import annotations

from portal.accounts.models import Account
from portal.accounts.sessions import Current
from portal.accounts.steps import ENROL, VERIFY
from portal.errors import SecondFactorDue


def check(current: Current | None, allowed: frozenset[str]) -> None:
    """Refuse ``current`` if it still owes a step this endpoint does not allow."""
    if current is None:
        return
    due = current.second_factor_due
    if due is not None and due not in allowed:
        raise SecondFactorDue(due)


def due_after_password(account: Account, holds_a_factor: bool) -> str | None:
    """What a new session of ``account`` owes once the password (or recovery code) is proved."""
    if holds_a_factor:
        return VERIFY
    if account.role.is_staff:
        return ENROL
    return None
