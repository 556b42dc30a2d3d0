"""Supporters and representatives: a place on one participant's side of a case, made by a
facilitator who records the participant's agreement, joined with an invitation code made in that
facilitator's browser, and ended by a date, by the participant or by a facilitator. What is
allowed when is ``portal/cases/states.py``'s (``supporter_refusal``). Never commits.

What a supporter may *read* is decided where content is handed over (``portal/messages``): only
grants a facilitator's browser made to them, and none once their access ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases.models import (
    Case,
    Participant,
    RequestOutcome,
    Supporter,
    SupporterKind,
    SupporterRequest,
)
from portal.cases.services import (
    MAX_SEALED_NAME,
    hold_current_epoch,
    queue_notice_for_facilitators,
    record_comparison,
    require_not_closed,
)
from portal.cases.states import (
    KeyStanding,
    SupporterAction,
    SupporterStanding,
    key_standing,
    supporter_actions,
    supporter_refusal,
)
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.settings import Settings

__all__ = ["MAX_SEALED_NAME", "Permissions", "add_supporter", "join_supporter", "revoke"]


@dataclass(frozen=True)
class Permissions:
    """What the participant agreed this person may do for them."""

    read: bool
    write: bool
    notices: bool

    def sentences(self) -> list[str]:
        """As the pages list them."""
        said = []
        if self.read:
            said.append("Read what is passed on to them")
        if self.write:
            said.append("Write and send on their behalf")
        if self.notices:
            said.append("Be told when something is waiting")
        return said


def permissions_of(supporter: Supporter) -> Permissions:
    return Permissions(supporter.may_read, supporter.may_write, supporter.may_receive_notices)


def standing_of(supporter: Supporter, now: datetime | None = None) -> SupporterStanding:
    now = now or utcnow()
    return SupporterStanding(
        joined=supporter.account_id is not None,
        revoked=supporter.revoked_at is not None,
        ended=supporter.ends_at is not None and supporter.ends_at <= now,
        side_withdrawn=supporter.participant.withdrawn_at is not None,
        may_write=supporter.may_write,
        holds_case_key=supporter.case_public_grant is not None,
    )


def actions_for(case: Case, supporter: Supporter) -> frozenset[SupporterAction]:
    return supporter_actions(case.status, standing_of(supporter))


def require_action(case: Case, supporter: Supporter, action: SupporterAction) -> None:
    refusal = supporter_refusal(case.status, standing_of(supporter), action)
    if refusal is not None:
        raise Conflict(refusal)


def add_supporter(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    participant: Participant,
    *,
    kind: SupporterKind,
    permissions: Permissions,
    ends_at: datetime | None,
    sealed_name: bytes,
    participant_agreed: bool,
    supporter_id: str | None = None,
) -> Supporter:
    """A place for a supporter or representative on ``participant``'s side, which an invitation
    then fills. ``supporter_id`` may be made by the browser: the sealed name's purpose
    (``supporter-name:<id>``) already names it."""
    require_not_closed(case)
    lock_row(db, participant)
    if participant.withdrawn_at is not None:
        raise Conflict("This person has withdrawn from the process.")
    if not participant_agreed:
        raise BadInput(
            "Only invite someone for a participant who has agreed to it. Tick the box to "
            "record that they did.",
            field="participant_agreed",
        )
    if not (permissions.read or permissions.write or permissions.notices):
        raise BadInput("Choose at least one thing they may do.", field="may_read")
    if ends_at is not None and ends_at <= utcnow():
        raise BadInput("Choose an end date after today, or none.", field="ends_on")
    if supporter_id is not None and db.get(Supporter, supporter_id) is not None:
        raise Conflict("Please reload the page and try again.")
    request = open_request_of(db, participant)
    if request is not None:
        close_request(db, settings, facilitator, request, RequestOutcome.INVITED)
    supporter = Supporter(
        case_id=case.id,
        participant_id=participant.id,
        kind=kind,
        may_read=permissions.read,
        may_write=permissions.write,
        may_receive_notices=permissions.notices,
        display_name=sealed_name,
        invited_by_id=facilitator.id,
        ends_at=ends_at,
    )
    if supporter_id is not None:
        supporter.id = supporter_id
    db.add(supporter)
    db.flush()
    record(db, settings, AuditTag.SUPPORTER_ADDED, actor_id=facilitator.id, subject_id=supporter.id)
    notices.queue(db, settings, [participant.account_id], NoticeEvent.SUPPORTER_INVITED)
    return supporter


def join_supporter(
    db: Session, settings: Settings, supporter_id: str, account: Account
) -> Supporter | None:
    """Link a new account to the place it was invited for; None when that place is gone,
    filled, revoked or ended, or its participant withdrew (the invitation is then unusable)."""
    supporter = db.get(Supporter, supporter_id)
    if supporter is None:
        return None
    lock_row(db, supporter)
    if supporter_refusal(
        supporter.participant.case.status, standing_of(supporter), SupporterAction.INVITE
    ):
        return None
    supporter.account_id = account.id
    supporter.joined_at = utcnow()
    record(db, settings, AuditTag.SUPPORTER_JOINED, actor_id=account.id, subject_id=supporter.id)
    # Their key is new: a facilitator compares it with them in person before it is trusted.
    queue_notice_for_facilitators(db, settings, supporter.case_id, NoticeEvent.KEY_TO_VERIFY)
    return supporter


def revoke(
    db: Session, settings: Settings, actor: Account, case: Case, supporter: Supporter
) -> None:
    """Take the access away now (by the participant or a facilitator). What it takes with it
    (their grants, an unused invitation) is removed by the caller in the same transaction:
    ``portal/workspace/supporters.py``."""
    lock_row(db, supporter)
    require_action(case, supporter, SupporterAction.REVOKE)
    supporter.revoked_at = utcnow()
    supporter.revoked_by_id = actor.id
    record(db, settings, AuditTag.SUPPORTER_REVOKED, actor_id=actor.id, subject_id=supporter.id)


def mark_key_verified(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    supporter: Supporter,
    compared_key: bytes,
) -> None:
    """The facilitator compared security numbers with this supporter in person."""
    lock_row(db, supporter)
    require_action(case, supporter, SupporterAction.MARK_VERIFIED)
    record_comparison(
        db, settings, facilitator, supporter, compared_key, AuditTag.SUPPORTER_KEY_VERIFIED
    )


def give_case_public_key(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    supporter: Supporter,
    grant: bytes,
) -> None:
    """Store the box in which a facilitator's browser gave the case public key to one who may
    write for their participant: their letters are sealed to it, as the participant's are."""
    lock_row(db, supporter)
    require_action(case, supporter, SupporterAction.GIVE_CASE_KEY)
    # Not the old key while the case waits for its next epoch (cases/team.py).
    hold_current_epoch(db, case)
    supporter.case_public_grant = grant
    supporter.case_public_grant_sender_id = facilitator.id
    record(
        db,
        settings,
        AuditTag.SUPPORTER_GIVEN_CASE_KEY,
        actor_id=facilitator.id,
        subject_id=supporter.id,
    )


def supporters_of(db: Session, participant_ids: Sequence[str]) -> list[Supporter]:
    """Everyone ever given a place on these participants' sides, oldest first (revoked and
    ended ones too: both pages show who had access and until when)."""
    if not participant_ids:
        return []
    return list(
        db.scalars(
            select(Supporter)
            .where(Supporter.participant_id.in_(participant_ids))
            .order_by(Supporter.created_at, Supporter.id)
        )
    )


def readers_for(db: Session, participant: Participant) -> list[Supporter]:
    """The supporters and representatives who may read what is released to ``participant``
    now: joined, allowed to read, access neither taken away nor ended (the participant's own
    standing is the caller's: nothing is released to someone who withdrew). The representative
    who holds the side of a participant without an account is not among them: things are
    released to them as to the recipient (``holder_of``)."""
    now = utcnow()
    holder = holder_of(db, participant)
    return [
        s
        for s in supporters_of(db, [participant.id])
        if s.may_read and s.has_access(now) and s is not holder
    ]


def holds_side(supporter: Supporter, now: datetime | None = None) -> bool:
    """Whether this place could hold its participant's side: a representative who may read,
    with access now, for a participant who has no account of their own and takes part."""
    participant = supporter.participant
    return (
        supporter.kind is SupporterKind.REPRESENTATIVE
        and supporter.may_read
        and supporter.has_access(now or utcnow())
        and participant.account_id is None
        and participant.withdrawn_at is None
    )


def holder_of(db: Session, participant: Participant) -> Supporter | None:
    """The representative who holds the side of a participant who wants no account: what is
    released to the participant is offered to them, and they choose whether to open it. The
    first one invited, when several could."""
    if participant.account_id is not None:
        return None
    now = utcnow()
    return next((s for s in supporters_of(db, [participant.id]) if holds_side(s, now)), None)


# ------------------------------------------------------------------------- a participant asks


def open_request_of(db: Session, participant: Participant) -> SupporterRequest | None:
    """The participant's request for a supporter that no one has closed yet (at most one)."""
    return db.scalars(
        select(SupporterRequest)
        .where(
            SupporterRequest.participant_id == participant.id,
            SupporterRequest.closed_at.is_(None),
        )
        .order_by(SupporterRequest.requested_at.desc())
    ).first()


def request_supporter(
    db: Session,
    settings: Settings,
    account: Account,
    participant: Participant,
    *,
    kind: SupporterKind,
    permissions: Permissions,
) -> SupporterRequest:
    """The participant asks their facilitator for a supporter or representative: the kind and
    what they would let them do. Who it is, they say to the facilitator, who adds the place."""
    require_not_closed(participant.case)
    # One open request at a time: two pages sending at once must not both pass the check.
    lock_row(db, participant)
    if participant.withdrawn_at is not None:
        raise Conflict("You have withdrawn from the process.")
    if not (permissions.read or permissions.write or permissions.notices):
        raise BadInput("Choose at least one thing they may do.", field="may_read")
    if open_request_of(db, participant) is not None:
        raise Conflict("You have already asked. Your facilitator will talk to you about it.")
    request = SupporterRequest(
        case_id=participant.case_id,
        participant_id=participant.id,
        kind=kind,
        may_read=permissions.read,
        may_write=permissions.write,
        may_receive_notices=permissions.notices,
        requested_at=utcnow(),
    )
    db.add(request)
    db.flush()
    record(db, settings, AuditTag.SUPPORTER_REQUESTED, actor_id=account.id, subject_id=request.id)
    return request


def close_request(
    db: Session,
    settings: Settings,
    actor: Account,
    request: SupporterRequest,
    outcome: RequestOutcome,
) -> None:
    """Close an open request: invited, talked through (a facilitator) or cancelled (the
    participant). Closed once only."""
    lock_row(db, request)
    if request.closed_at is not None:
        raise Conflict("This request has already been closed.")
    request.closed_at = utcnow()
    request.closed_by_id = actor.id
    request.outcome = outcome
    record(
        db, settings, AuditTag.SUPPORTER_REQUEST_CLOSED, actor_id=actor.id, subject_id=request.id
    )


def request_permissions(request: SupporterRequest) -> Permissions:
    return Permissions(request.may_read, request.may_write, request.may_receive_notices)


def key_standing_of(supporter: Supporter) -> KeyStanding:
    """Their current key against the one a facilitator compared with them in person."""
    current = supporter.account.public_key if supporter.account is not None else None
    return key_standing(current, supporter.verified_public_key)
