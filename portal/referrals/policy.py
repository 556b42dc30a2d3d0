"""Who may reach what in referrals. Route-level roles are in routes/views (service managers for
the Referrals page and its actions; anyone for the public pages); this says who may read
referrals, the one rule about people rather than roles."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.errors import Forbidden, NotFound
from portal.referrals import services
from portal.referrals.models import Referral, ReferralKey, ReferralKeyGrant
from portal.referrals.states import ReferralState


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


def may_triage(db: Session, account: Account) -> bool:
    """Who triages referrals (asks for more, accepts, declines): a reader who holds a grant of
    the current key, so their browser can open the referral and share it on acceptance."""
    if not may_read(db, account):
        return False
    key = services.current_key(db)
    return key is not None and services.grant_of(db, key, account.id) is not None


def holds_share(account: Account, referral: Referral) -> bool:
    """The facilitator a referral was accepted to reads it through their share (designated or
    not), while it stays accepted to them."""
    return (
        referral.state is ReferralState.ACCEPTED
        and referral.assigned_facilitator_id == account.id
        and referral.share is not None
    )


def triageable(db: Session, account: Account, referral_id: str) -> Referral:
    """The referral, for someone who may triage; anyone else 403 (before looking it up, so a
    refusal says nothing about which ids exist), and an unknown id 404."""
    if not may_triage(db, account):
        raise Forbidden(
            "Only the service manager and facilitators given access to referrals can triage them."
        )
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise NotFound("There is no such referral.")
    return referral
