"""Case rules: opening, participants (adding, joining), consent, keys, pausing and closing.
What is allowed when is ``portal/cases/states.py``'s; these functions refuse anything else.
Never commits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import path
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    CaseKeyEpoch,
    CaseKeyGrant,
    ClosingReason,
    Format,
    HighRisk,
    Participant,
    Side,
    Supporter,
)
from portal.cases.states import (
    CaseAction,
    ParticipantAction,
    ParticipantStanding,
    TeamAction,
    TeamStanding,
    action_towards,
    participant_actions,
    participant_refusal,
    team_refusal,
)
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.settings import Settings
from portal.trust import services as trust
from portal.trust.models import EntryKind
from portal.trust.statements import SignedStatement, key_text, open_signed

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{1,39}$")
MAX_SEALED_NAME = 24 + 16 + 400  # nonce, tag, and a generous display name


@dataclass(frozen=True)
class FromReferral:
    """The accepted referral a case is opened from, as plain values: referrals sit above cases
    (a referral becomes a case), so cases never reads a referral itself. The caller checked
    and locked it (referrals.triage.referral_to_open)."""

    referral_id: str
    # When the referral arrived: the case's path starts as referred on that day.
    received_at: datetime


def open_case(
    db: Session,
    settings: Settings,
    facilitator: Account,
    *,
    case_id: str,
    reference: str,
    label: str,
    public_key: bytes,
    own_grant: bytes,
    case_key_statement: SignedStatement | None = None,
    from_referral: FromReferral | None = None,
) -> Case:
    """A new case whose key pair the facilitator's browser made, with the grant to themself,
    and (from browsers that have trust anchors) the signed ``case-key`` statement for epoch 1.
    Opened from an accepted referral (``from_referral``: the caller checked and locked it), the
    case records it and its path starts as referred on the day the referral arrived, so time to
    first contact counts from then.

    The statement must be signed with the facilitator's registered signing key and name this
    case, epoch 1, this public key and the facilitator as issuer; it is kept as the case's
    first key epoch and served with the case key. Browsers check it themselves.
    """
    if case_key_statement is not None:
        check_case_key_statement(facilitator, case_id, 1, public_key, case_key_statement)
    reference = " ".join(reference.split())
    if not reference:
        raise BadInput("Enter the case reference.", field="reference")
    if not _REFERENCE.fullmatch(reference):
        raise BadInput(
            "Use 2 to 40 letters, numbers, spaces, dots, slashes or dashes, starting with a "
            "letter or number.",
            field="reference",
        )
    label = " ".join(label.split())
    if not label:
        raise BadInput("Give the case a short label.", field="label")
    if len(label) > 80:
        raise BadInput("Give the case a short label of up to 80 characters.", field="label")
    now = utcnow()
    if db.get(Case, case_id) is not None:
        raise Conflict("Please reload the page and try again.")
    case = Case(
        id=case_id,
        reference=reference,
        label=label,
        status=CaseCondition.OPEN,
        public_key=public_key,
        key_epoch=1,
        created_by_id=facilitator.id,
        created_at=now,
        status_changed_at=now,
        referral_id=from_referral.referral_id if from_referral is not None else None,
    )
    db.add(case)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Conflict("A case with that reference already exists.", field="reference") from None
    db.add(CaseFacilitator(case_id=case.id, account_id=facilitator.id, added_at=now))
    path.start(
        db, case, facilitator, from_referral.received_at if from_referral is not None else None
    )
    db.add(
        CaseKeyGrant(
            case_id=case.id,
            epoch=1,
            recipient_id=facilitator.id,
            sender_id=facilitator.id,
            grant=own_grant,
            created_at=now,
        )
    )
    if case_key_statement is not None:
        db.add(
            CaseKeyEpoch(
                case_id=case.id,
                epoch=1,
                statement=case_key_statement.statement,
                signature=case_key_statement.signature,
                signer_account_id=facilitator.id,
                created_at=now,
            )
        )
    db.flush()
    record(db, settings, AuditTag.CASE_OPENED, actor_id=facilitator.id, subject_id=case.id)
    return case


def check_case_key_statement(
    facilitator: Account, case_id: str, epoch: int, public_key: bytes, signed: SignedStatement
) -> None:
    """The statement is the facilitator's, naming this case, this epoch and this key."""
    field = "case_key_statement"
    fields = open_signed("case-key", facilitator.signing_public_key, signed, field=field)
    if (
        fields["case_id"] != case_id
        or fields["epoch"] != epoch
        or fields["case_public_key"] != key_text(public_key)
        or fields["issuer_account_id"] != facilitator.id
    ):
        which = "its first key" if epoch == 1 else "its next key"
        raise BadInput(
            f"The signed case key does not name this case, {which} and you.", field=field
        )


def case_key_epoch_for(db: Session, case: Case) -> CaseKeyEpoch | None:
    """The signed statement for the case's current key epoch, if its opener's browser made one."""
    return db.get(CaseKeyEpoch, (case.id, case.key_epoch))


def case_key_grant_for(db: Session, case: Case, account: Account) -> CaseKeyGrant | None:
    return db.scalars(
        select(CaseKeyGrant).where(
            CaseKeyGrant.case_id == case.id,
            CaseKeyGrant.epoch == case.key_epoch,
            CaseKeyGrant.recipient_id == account.id,
        )
    ).first()


def add_participant(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    side: Side,
    sealed_name: bytes,
    *,
    participant_id: str | None = None,
) -> Participant:
    """``participant_id`` may be made by the browser: the sealed name's AD already names it."""
    require_not_closed(case)
    if participant_id is not None and db.get(Participant, participant_id) is not None:
        raise Conflict("Please reload the page and try again.")
    participant = Participant(case_id=case.id, side=side, display_name=sealed_name, formats="")
    if participant_id is not None:
        participant.id = participant_id
    db.add(participant)
    db.flush()
    record(
        db,
        settings,
        AuditTag.PARTICIPANT_ADDED,
        actor_id=facilitator.id,
        subject_id=participant.id,
    )
    return participant


def queue_notice_for_facilitators(
    db: Session,
    settings: Settings,
    case_id: str,
    event: NoticeEvent,
    *,
    except_id: str | None = None,
) -> int:
    """Queue a notice of ``event`` for the case's facilitators (but the one who did it), in the
    transaction of the change (portal/notifications)."""
    facilitators = db.scalars(
        select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case_id)
    ).all()
    return notices.queue(db, settings, [a for a in facilitators if a != except_id], event)


def join_participant(
    db: Session, settings: Settings, participant_id: str, account: Account
) -> Participant | None:
    """Link a new account to the participant row it was invited for; None when that row is
    gone or already has an account (the invitation can then no longer be used)."""
    participant = db.get(Participant, participant_id)
    if participant is None or participant.account_id is not None:
        return None
    participant.account_id = account.id
    participant.joined_at = utcnow()
    record(
        db,
        settings,
        AuditTag.PARTICIPANT_JOINED,
        actor_id=account.id,
        subject_id=participant.id,
    )
    # Their key is new: a facilitator compares it with them in person before it is trusted.
    queue_notice_for_facilitators(db, settings, participant.case_id, NoticeEvent.KEY_TO_VERIFY)
    return participant


def record_consent(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    participant: Participant,
    formats: frozenset[Format],
) -> None:
    """The participant agreed to indirect communication in these formats (or withdrew it)."""
    require_participant_action(case, participant, ParticipantAction.RECORD_CONSENT)
    participant.formats = ",".join(sorted(f.value for f in formats))
    participant.consent_recorded_at = utcnow() if formats else None
    participant.consent_recorded_by_id = facilitator.id
    record(
        db,
        settings,
        AuditTag.PARTICIPANT_CONSENT_RECORDED,
        actor_id=facilitator.id,
        subject_id=participant.id,
    )


def give_case_public_key(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    participant: Participant,
    grant: bytes,
) -> None:
    """Store the box in which the facilitator's browser gave the case public key to them.

    A grant for someone who already holds one replaces it: two facilitators' pages may both
    have seen them waiting for it."""
    require_participant_action(case, participant, ParticipantAction.GIVE_CASE_KEY)
    participant.case_public_grant = grant
    participant.case_public_grant_sender_id = facilitator.id
    record(
        db,
        settings,
        AuditTag.PARTICIPANT_GIVEN_CASE_KEY,
        actor_id=facilitator.id,
        subject_id=participant.id,
    )


def mark_key_verified(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    participant: Participant,
    compared_key: bytes,
) -> None:
    """The facilitator compared security numbers with the participant in person."""
    # The row a re-key, a withdrawal and a grant given again lock first (messages/regrants.py).
    lock_row(db, participant)
    require_participant_action(case, participant, ParticipantAction.MARK_VERIFIED)
    record_comparison(
        db, settings, facilitator, participant, compared_key, AuditTag.PARTICIPANT_KEY_VERIFIED
    )


def record_comparison(
    db: Session,
    settings: Settings,
    facilitator: Account,
    person: Participant | Supporter,
    compared_key: bytes,
    tag: AuditTag,
) -> None:
    """Keep which key a facilitator compared in person with a participant or a supporter, and
    when: only the key they have now (a page loaded before it changed is refused)."""
    if person.account is None:  # the caller's rules ask for someone who joined; narrows it
        raise Conflict("This person has not joined yet.")
    if compared_key != person.account.public_key:
        raise Conflict("This person's key changed since the page was loaded. Please reload it.")
    person.key_verified_at = utcnow()
    person.key_verified_by_id = facilitator.id
    person.verified_public_key = person.account.public_key
    record(db, settings, tag, actor_id=facilitator.id, subject_id=person.id)


STATUS_TAGS = {
    CaseAction.PAUSE: AuditTag.CASE_PAUSED,
    CaseAction.RESUME: AuditTag.CASE_RESUMED,
}


def set_status(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    status: CaseCondition,
    closing_reason: ClosingReason | None = None,
) -> None:
    """Move the case to ``status``; asking for the status it already has changes nothing.
    Closing needs its reason, and ends the case's path (``path.close``). The case's row is
    locked, so a pause and a close at once cannot both apply to the same status."""
    lock_row(db, case)
    if case.status is CaseCondition.CLOSED:
        raise Conflict("This case is closed.")
    if case.status is status:
        return
    action = action_towards(case.status, status)
    if action is None:  # pragma: no cover  (every other move of a case that is not closed exists)
        raise Conflict("This case cannot be changed that way.")
    if action is CaseAction.CLOSE and closing_reason is None:
        raise BadInput("Choose why the case is closing.", field="closing_reason")
    case.status = status
    case.status_changed_at = utcnow()
    if action is CaseAction.CLOSE and closing_reason is not None:
        path.close(db, settings, facilitator, case, closing_reason)
    else:
        record(db, settings, STATUS_TAGS[action], actor_id=facilitator.id, subject_id=case.id)


HIGH_RISK_TAGS = {
    HighRisk.DOMESTIC_ABUSE: AuditTag.CASE_HIGH_RISK_DOMESTIC_ABUSE,
    HighRisk.SEXUAL_HARM: AuditTag.CASE_HIGH_RISK_SEXUAL_HARM,
    HighRisk.DEATH: AuditTag.CASE_HIGH_RISK_DEATH,
    HighRisk.OTHER: AuditTag.CASE_HIGH_RISK_OTHER,
}


def set_high_risk(
    db: Session, settings: Settings, facilitator: Account, case: Case, reason: HighRisk | None
) -> None:
    """Mark the case high-risk for ``reason`` (or change the reason), or unmark it (None),
    audited each way. The case's row is locked, so two facilitators changing it at once
    cannot lose a change. Approvals read the mark when they are made (messages/services
    approvals_for), so it applies at once to whatever is being reviewed."""
    lock_row(db, case)
    require_not_closed(case)
    if case.high_risk is reason:
        return
    case.high_risk = reason
    case.high_risk_changed_at = utcnow()
    tag = AuditTag.CASE_HIGH_RISK_ENDED if reason is None else HIGH_RISK_TAGS[reason]
    record(db, settings, tag, actor_id=facilitator.id, subject_id=case.id)


def colleagues_to_add(db: Session, case: Case) -> list[Account]:
    """Facilitators who could join the case's team: active, certified in the trust log (a
    browser accepts no other's key) and not revoked, and not on the case yet; by sign-in name.

    One statement driven by the trust log's few certificates, never by the accounts table,
    which holds every participant the service ever had (reading it made the case page 20 ms
    slower at full size: bench/README.md)."""
    on_case = select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == case.id)
    return certified_facilitators(db, Account.id.not_in(on_case))


def certified_facilitators(db: Session, *also: ColumnElement[bool]) -> list[Account]:
    """Active facilitators certified in the trust log and not revoked, by sign-in name."""
    return list(
        db.scalars(
            select(Account)
            .where(
                Account.id.in_(trust.subjects_of(EntryKind.STAFF_CERT)),
                Account.id.not_in(trust.subjects_of(EntryKind.REVOCATION)),
                Account.role == Role.FACILITATOR,
                Account.disabled_at.is_(None),
                *also,
            )
            .order_by(Account.sign_in_name)
        )
    )


def certified_facilitator(db: Session, account_id: str) -> Account:
    """The active facilitator the trust log certifies (and has not revoked), or a refusal: a
    browser accepts no other's key, so no case is given to anyone else."""
    colleague = db.get(Account, account_id)
    if colleague is None or colleague.role is not Role.FACILITATOR:
        raise BadInput("Choose a facilitator to add.", field="account_id")
    if colleague.disabled_at is not None:
        raise Conflict("This account is disabled.")
    if not trust.is_certified(db, colleague.id) or trust.is_revoked(db, colleague.id):
        raise Conflict(
            "This facilitator is not certified by the service, so the case key cannot be "
            "given to them. A service manager can certify them first."
        )
    return colleague


def add_facilitator(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    colleague_id: str,
    grant: bytes,
) -> Account:
    """Add a certified colleague to the case's team, with the grant of the case key that the
    adding facilitator's browser made to the colleague's key as the trust log vouches for it.

    The case's row is locked, so team changes of one case take turns (``portal/cases/team.py``
    removes and hands over). The grant is for the case's current epoch; while the case waits
    for its next epoch nobody is added (the old key is all there is to give)."""
    lock_row(db, case)
    require_team_action(db, case, TeamAction.ADD)
    colleague = certified_facilitator(db, colleague_id)
    if db.get(CaseFacilitator, (case.id, colleague.id)) is not None:
        raise Conflict("This facilitator already works on this case.")
    db.add(CaseFacilitator(case_id=case.id, account_id=colleague.id, added_by_id=facilitator.id))
    db.add(
        CaseKeyGrant(
            case_id=case.id,
            epoch=case.key_epoch,
            recipient_id=colleague.id,
            sender_id=facilitator.id,
            grant=grant,
        )
    )
    record(
        db, settings, AuditTag.CASE_FACILITATOR_ADDED, actor_id=facilitator.id, subject_id=case.id
    )
    return colleague


def team_standing(db: Session, case: Case) -> TeamStanding:
    # A fresh count, never the identity map: after the row lock it sees what others committed.
    count, active = db.execute(
        select(func.count(), func.count(Account.id))
        .select_from(CaseFacilitator)
        .outerjoin(
            Account,
            (Account.id == CaseFacilitator.account_id) & Account.disabled_at.is_(None),
        )
        .where(CaseFacilitator.case_id == case.id)
    ).one()
    return TeamStanding(
        facilitators=int(count),
        key_change_pending=case.key_change_since is not None,
        active_facilitators=int(active),
    )


def require_team_action(db: Session, case: Case, action: TeamAction) -> None:
    refusal = team_refusal(case.status, team_standing(db, case), action)
    if refusal is not None:
        raise Conflict(refusal)


SEALING_WAITS = (
    "This case is getting a new key, so nothing new can be sealed to it until a facilitator has "
    "opened the case. Nothing was changed; please try again in a moment."
)


def hold_current_epoch(db: Session, case: Case) -> None:
    """Before anything sealed to the case key is stored: hold the case's row shared to the end
    of the transaction and refuse while the case waits for its next epoch. A removal locks the
    row for update, so either it waits for this transaction, or this one waits for it and then
    sees the pending epoch: nothing lands sealed to the key the facilitator who left holds
    (tests/http/test_case_epochs.py races them on PostgreSQL). Sealings of one case do not wait
    for each other."""
    db.flush()  # refresh discards what is not flushed
    db.refresh(case, with_for_update={"read": True})
    if case.key_change_since is not None:
        raise Conflict(SEALING_WAITS)


def require_not_closed(case: Case) -> None:
    if case.status is CaseCondition.CLOSED:
        raise Conflict("This case is closed.")


def standing_of(participant: Participant) -> ParticipantStanding:
    return ParticipantStanding(
        joined=participant.account_id is not None,
        withdrawn=participant.withdrawn_at is not None,
        holds_case_key=participant.case_public_grant is not None,
        case_key_changing=participant.case.key_change_since is not None,
    )


def actions_for(case: Case, participant: Participant) -> frozenset[ParticipantAction]:
    """What the case page offers for this participant now."""
    return participant_actions(case.status, standing_of(participant))


def require_participant_action(
    case: Case, participant: Participant, action: ParticipantAction
) -> None:
    refusal = participant_refusal(case.status, standing_of(participant), action)
    if refusal is not None:
        raise Conflict(refusal)


def participant_counts(db: Session, case_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """For each of these cases with participants: (participants added, of whom joined), counted
    in one statement (the cases list would otherwise load every participant of every case)."""
    rows = db.execute(
        select(Participant.case_id, func.count(), func.count(Participant.account_id))
        .where(Participant.case_id.in_(case_ids))
        .group_by(Participant.case_id)
    ).all()
    return {case_id: (int(added), int(joined)) for case_id, added, joined in rows}
