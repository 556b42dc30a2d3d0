"""Whose second factors someone may change: the one place these rules live.

Everyone manages their own factors. A service manager may reset a colleague's (staff only,
after checking who asked: views.reset_second_factor), never their own: that would let a stolen
password and session of a service manager drop the factor that guards them. The operator's
command line (docs/operator.md) is the way back for the last one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.errors import NotFound
from portal.factors.models import SecondFactor


def own_factor(db: Session, me: Account, factor_id: str) -> SecondFactor:
    found = db.get(SecondFactor, factor_id)
    if found is None or found.account_id != me.id:
        raise NotFound("We could not find that second factor.")
    return found


def may_reset(me: Account, subject: Account) -> bool:
    return me.role is Role.SERVICE_MANAGER and subject.role.is_staff and subject.id != me.id


def colleague_to_reset(db: Session, me: Account, account_id: str) -> Account:
    found = db.get(Account, account_id)
    if found is None or not may_reset(me, found):
        raise NotFound("We could not find that member of staff.")
    return found
