"""Triage of a received referral: ask for more information, accept it to a facilitator (with the
share of it boxed to them in the accepter's browser), or decline it with a reason. What may
happen when is ``states.py``'s; who may is ``policy.may_triage``'s. Each move locks the
referral's row, so two holders deciding at once cannot both decide: the second waits, then the
state machine refuses it. Audited with ids only. Never commits.

The server holds no words here: notes are sealed to the referral key and the share to the
facilitator's key, in browsers; it checks only their lengths, so garbage gets a 4xx.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account, Role
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import services as cases
from portal.cases.models import Case
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict
from portal.referrals.models import Referral
from portal.referrals.services import SEALED_SIZES
from portal.referrals.states import (
    DeclineReason,
    NotAllowedNow,
    ReferralState,
    TriageAction,
    transition,
)
from portal.settings import Settings

SHARE_SIZES: Final = protocol.referral_share_sizes()


def _move(db: Session, referral: Referral, actor: Account, action: TriageAction) -> ReferralState:
    """Lock the row, then ask the state machine (after the wait: what committed meanwhile)."""
    lock_row(db, referral)
    try:
        after = transition(referral.state, action)
    except NotAllowedNow as refused:
        raise Conflict(refused.sentence) from None
    referral.state = after
    referral.state_changed_at = utcnow()
    referral.triaged_by_id = actor.id
    return after


def _check_note(note: bytes | None, field: str) -> bytes | None:
    """A note is sealed to the referral key like a referral (a form ``{"note": ...}``)."""
    if note is not None and len(note) not in SEALED_SIZES:
        raise BadInput("The note was not sealed in the right form.", field=field)
    return note


def ask_for_more(
    db: Session, settings: Settings, actor: Account, referral: Referral, note: bytes | None
) -> None:
    """Record that more information was asked for (the referrer is contacted outside the
    portal: their details are inside the sealed referral)."""
    _check_note(note, "note")
    _move(db, referral, actor, TriageAction.ASK_MORE)
    referral.more_info_asked_at = referral.state_changed_at
    referral.more_info_note = note
    record(
        db, settings, AuditTag.REFERRAL_MORE_INFO_ASKED, actor_id=actor.id, subject_id=referral.id
    )


def decline(
    db: Session,
    settings: Settings,
    actor: Account,
    referral: Referral,
    reason: DeclineReason,
    note: bytes | None,
) -> None:
    _check_note(note, "note")
    _move(db, referral, actor, TriageAction.DECLINE)
    referral.decline_reason = reason
    referral.decline_note = note
    record(db, settings, AuditTag.REFERRAL_DECLINED, actor_id=actor.id, subject_id=referral.id)


def accept(
    db: Session,
    settings: Settings,
    actor: Account,
    referral: Referral,
    facilitator_id: str,
    share: bytes,
) -> Account:
    """Accept the referral to a certified facilitator (any, designated or not), keeping the
    share the accepter's browser boxed to that facilitator's key from the trust log."""
    if len(share) not in SHARE_SIZES:
        raise BadInput("The referral was not shared in the right form.", field="share")
    chosen = db.get(Account, facilitator_id)
    if chosen is None or chosen.role is not Role.FACILITATOR:
        raise BadInput("Choose the facilitator who will hold the case.", field="facilitator_id")
    facilitator = cases.certified_facilitator(db, facilitator_id)  # certified, open: else 409
    _move(db, referral, actor, TriageAction.ACCEPT)
    referral.assigned_facilitator_id = facilitator.id
    referral.share = share
    referral.share_sender_id = actor.id
    referral.share_sender_public_key = actor.public_key
    record(db, settings, AuditTag.REFERRAL_ACCEPTED, actor_id=actor.id, subject_id=referral.id)
    return facilitator


def case_of(db: Session, referral: Referral) -> Case | None:
    return db.scalar(select(Case).where(Case.referral_id == referral.id))


def to_open_as_case(db: Session, facilitator: Account) -> list[Referral]:
    """Referrals accepted to this facilitator that no case has been opened from yet."""
    return list(
        db.scalars(
            select(Referral)
            .where(
                Referral.assigned_facilitator_id == facilitator.id,
                Referral.state == ReferralState.ACCEPTED,
                Referral.id.not_in(select(Case.referral_id).where(Case.referral_id.is_not(None))),
            )
            .order_by(Referral.received_at)
        )
    )


def accepted_for(db: Session, facilitator: Account, referral_id: str) -> Referral:
    """The referral accepted to this facilitator with no case yet (for the new-case page:
    a read, no lock)."""
    referral = db.get(Referral, referral_id)
    if (
        referral is None
        or referral.state is not ReferralState.ACCEPTED
        or referral.assigned_facilitator_id != facilitator.id
    ):
        raise BadInput("This referral is not one accepted for you to open as a case.")
    if case_of(db, referral) is not None:
        raise Conflict("A case has already been opened from this referral.")
    return referral


def referral_to_open(db: Session, facilitator: Account, referral_id: str) -> Referral:
    """As ``accepted_for``, locked, to open its case: two tabs opening cases from it at once
    take turns, and the second finds the first's case and is refused."""
    referral = accepted_for(db, facilitator, referral_id)
    lock_row(db, referral)
    if case_of(db, referral) is not None:
        raise Conflict("A case has already been opened from this referral.")
    return referral
