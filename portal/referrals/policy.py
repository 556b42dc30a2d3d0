"""Who may reach what in referrals. Route-level roles are in routes/views (service managers for
the Referrals page and its actions; anyone for the public pages); this says who may read
referrals, the one rule about people rather than roles."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.errors import NotFound
from portal.referrals import services
from portal.referrals.models import ReferralKey, ReferralKeyGrant


def may_read(db: Session, account: Account) -> bool:
    """A service manager whose signature counts, or a designated facilitator, while they may
    hold the key (certified, not revoked, open)."""
    if not services.may_hold_the_key(db, account):
        return False
    return account.role is Role.SERVICE_MANAGER or services.is_designated(db, account.id)


def readable_grant(db: Session, account: Account) -> tuple[ReferralKey, ReferralKeyGrant]:
    """The current key and this reader's grant of it; anyone else gets 404."""
    key = services.current_key(db)
    grant = services.grant_of(db, key, account.id) if key is not None else None
    if key is None or grant is None or not may_read(db, account):
        raise NotFound("You do not hold the referral key.")
    return key, grant
