"""A case's team after it is formed: removing a facilitator, handing a case over, and the next
case key epoch that every removal starts. Adding a colleague is ``services.add_facilitator``.
What may change when is ``states.team_refusal``'s. Never commits.

    remove_facilitator   the row and every case key grant the facilitator held (each epoch's)
                         are deleted, and the case waits for its next epoch
                         (``Case.key_change_since``): nothing is sealed to the old key meanwhile
                         (messages/services.require_can_write, give_case_public_key refuse).
    hand_over            add a colleague (granted the current key by my browser) and leave, in
                         one transaction, so the case is never without its facilitator.
    reassign             a service manager gives a case whose facilitators are all disabled to a
                         certified facilitator; their browser then makes the next epoch from
                         nothing (no one remains to give them the old key).
    start_epoch          a remaining facilitator's browser made the next key pair and sends its
                         signed ``case-key`` statement, the new secret boxed to every facilitator
                         still on the case, the new public key boxed to every participant who
                         has joined, and the old secret boxed to the new key (so older content
                         stays readable to the team, never to the one who left).

Every function locks the case's row first, so team changes of one case take turns: two
facilitators removing each other at once cannot leave the case with none, and a grant of the
old epoch cannot land after the removal (tests/http/test_case_epochs.py races them on
PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import services
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    CaseKeyEpoch,
    CaseKeyGrant,
    Participant,
    Supporter,
)
from portal.cases.states import TeamAction
from portal.db import HOME_TOUCHES, lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.settings import Settings
from portal.trust.statements import SignedStatement


def _lock_as_member(db: Session, case: Case, actor: Account) -> None:
    """Lock the case's row, then check ``actor`` still works on it: a colleague may have
    removed them while their request waited for the lock."""
    lock_row(db, case)
    still = db.scalar(
        select(CaseFacilitator.account_id).where(
            CaseFacilitator.case_id == case.id, CaseFacilitator.account_id == actor.id
        )
    )
    if still is None:
        raise NotFound


def _take_off(db: Session, case: Case, account_id: str) -> None:
    """The facilitator's place and every case key grant they held, each epoch's: the server
    keeps nothing more they could fetch. The case waits for its next epoch."""
    db.execute(
        delete(CaseFacilitator)
        .where(CaseFacilitator.case_id == case.id, CaseFacilitator.account_id == account_id)
        .execution_options(**{HOME_TOUCHES: {"cases": [case.id], "accounts": [account_id]}})
    )
    db.execute(
        delete(CaseKeyGrant).where(
            CaseKeyGrant.case_id == case.id, CaseKeyGrant.recipient_id == account_id
        )
    )
    db.expire_all()
    if case.key_change_since is None:
        case.key_change_since = utcnow()


def remove_facilitator(
    db: Session, settings: Settings, actor: Account, case: Case, account_id: str
) -> None:
    """Take ``account_id`` (a colleague, or ``actor`` themself) off the case's team."""
    _lock_as_member(db, case, actor)
    on_case = db.scalar(
        select(CaseFacilitator.account_id).where(
            CaseFacilitator.case_id == case.id, CaseFacilitator.account_id == account_id
        )
    )
    if on_case is None:
        raise Conflict("This facilitator does not work on this case.")
    services.require_team_action(db, case, TeamAction.REMOVE)
    _take_off(db, case, account_id)
    record(db, settings, AuditTag.CASE_FACILITATOR_REMOVED, actor_id=actor.id, subject_id=case.id)


def hand_over(
    db: Session, settings: Settings, actor: Account, case: Case, colleague_id: str, grant: bytes
) -> Account:
    """Add the colleague with the grant my browser made them, then take me off the case."""
    _lock_as_member(db, case, actor)
    services.require_team_action(db, case, TeamAction.HAND_OVER)
    if colleague_id == actor.id:
        raise BadInput("Choose a colleague to hand this case over to.", field="account_id")
    colleague = services.add_facilitator(db, settings, actor, case, colleague_id, grant)
    db.flush()
    _take_off(db, case, actor.id)
    record(db, settings, AuditTag.CASE_HANDED_OVER, actor_id=actor.id, subject_id=case.id)
    return colleague


@dataclass(frozen=True)
class EpochIn:
    """The next key epoch as a remaining facilitator's browser made it."""

    epoch: int
    public_key: bytes
    statement: SignedStatement
    facilitator_grants: dict[str, bytes]  # account id -> the new secret boxed to them
    participant_grants: dict[str, bytes]  # participant id -> the new public key boxed to them
    previous_grant: bytes | None  # the old secret boxed to the new key; None: not held


def _participants_to_key(db: Session, case: Case) -> set[str]:
    """Who seals to the case key: joined and not withdrawn."""
    return set(
        db.scalars(
            select(Participant.id).where(
                Participant.case_id == case.id,
                Participant.account_id.is_not(None),
                Participant.withdrawn_at.is_(None),
            )
        )
    )


def start_epoch(
    db: Session, settings: Settings, facilitator: Account, case: Case, new: EpochIn
) -> None:
    """Make the case's next key epoch current, with its grants; refused unless the case waits
    for one, the epoch is the next, and the grants name exactly the facilitators and joined
    participants of the case now (a page loaded before someone joined or left sends again)."""
    _lock_as_member(db, case, facilitator)
    services.require_team_action(db, case, TeamAction.NEW_EPOCH)
    if new.epoch != case.key_epoch + 1:
        raise Conflict("This case's key changed meanwhile. Please reload the page.")
    services.check_case_key_statement(
        facilitator, case.id, new.epoch, new.public_key, new.statement
    )
    team = set(
        db.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case.id))
    )
    if set(new.facilitator_grants) != team:
        raise Conflict("This case's team changed meanwhile. Please reload the page.")
    participants = _participants_to_key(db, case)
    if set(new.participant_grants) != participants:
        raise Conflict("Someone joined or left this case meanwhile. Please reload the page.")
    now = utcnow()
    db.add(
        CaseKeyEpoch(
            case_id=case.id,
            epoch=new.epoch,
            statement=new.statement.statement,
            signature=new.statement.signature,
            signer_account_id=facilitator.id,
            created_at=now,
            previous_grant=new.previous_grant,
        )
    )
    for account_id, grant in new.facilitator_grants.items():
        db.add(
            CaseKeyGrant(
                case_id=case.id,
                epoch=new.epoch,
                recipient_id=account_id,
                sender_id=facilitator.id,
                grant=grant,
                created_at=now,
            )
        )
    for participant_id, grant in new.participant_grants.items():
        participant = db.get(Participant, participant_id)
        if participant is not None:  # in the set just read, under the case's lock
            participant.case_public_grant = grant
            participant.case_public_grant_sender_id = facilitator.id
    # Supporters and representatives who write for a participant hold the old public key: the
    # key hand-over task gives them the new one (cases/policy.awaiting_case_key_rows), as it
    # gives it to someone who just joined, from a browser that holds the new key.
    db.execute(
        update(Supporter)
        .where(Supporter.case_id == case.id, Supporter.case_public_grant.is_not(None))
        .values(case_public_grant=None, case_public_grant_sender_id=None)
        .execution_options(**{HOME_TOUCHES: {"cases": [case.id]}})
    )
    case.public_key = new.public_key
    case.key_epoch = new.epoch
    case.key_change_since = None
    record(
        db, settings, AuditTag.CASE_KEY_EPOCH_STARTED, actor_id=facilitator.id, subject_id=case.id
    )


def previous_grants(db: Session, case: Case) -> list[CaseKeyEpoch]:
    """The epochs up to the current one whose key opens the one before, newest first: a
    browser holding the current key walks back through them (client/cases.js)."""
    return list(
        db.scalars(
            select(CaseKeyEpoch)
            .where(
                CaseKeyEpoch.case_id == case.id,
                CaseKeyEpoch.epoch <= case.key_epoch,
                CaseKeyEpoch.previous_grant.is_not(None),
            )
            .order_by(CaseKeyEpoch.epoch.desc())
        )
    )


# ------------------------------------------------------------------ cases nobody active holds


@dataclass(frozen=True)
class Unattended:
    """A case not closed whose facilitators are all disabled (or who has none): the service
    manager's home lists it, with how long (``since``: when its last one was disabled)."""

    case_id: str
    reference: str
    label: str
    since: datetime | None


def unattended_cases(db: Session) -> list[Unattended]:
    """Every such case, longest unattended first. Reference and label only: never content."""
    attended = (
        select(CaseFacilitator.case_id)
        .join(Account, Account.id == CaseFacilitator.account_id)
        .where(Account.disabled_at.is_(None))
    )
    last_disabled = func.max(Account.disabled_at)
    rows = db.execute(
        select(Case.id, Case.reference, Case.label, last_disabled)
        .outerjoin(CaseFacilitator, CaseFacilitator.case_id == Case.id)
        .outerjoin(Account, Account.id == CaseFacilitator.account_id)
        .where(Case.status != CaseCondition.CLOSED, Case.id.not_in(attended))
        .group_by(Case.id, Case.reference, Case.label)
        .order_by(last_disabled, Case.reference)
    ).all()
    return [Unattended(*row) for row in rows]


def reassign(
    db: Session, settings: Settings, manager: Account, case: Case, colleague_id: str
) -> Account:
    """Give a case nobody active holds to a certified facilitator. The disabled facilitators
    are taken off (their grants of every epoch deleted) and the case waits for its next epoch,
    which the new facilitator's browser makes from nothing: nobody who could give them the old
    key remains, so what was sealed before stays unreadable to them. The manager is never put
    on the case and is given nothing."""
    lock_row(db, case)
    services.require_team_action(db, case, TeamAction.REASSIGN)
    colleague = services.certified_facilitator(db, colleague_id)
    for account_id in list(
        db.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case.id))
    ):
        _take_off(db, case, account_id)
    if case.key_change_since is None:  # a case that had no facilitator row at all
        case.key_change_since = utcnow()
    db.add(CaseFacilitator(case_id=case.id, account_id=colleague.id, added_by_id=manager.id))
    record(db, settings, AuditTag.CASE_REASSIGNED, actor_id=manager.id, subject_id=case.id)
    return colleague
