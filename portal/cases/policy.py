"""Who may see a case: the one place the rule lives.

Facilitators see only the cases they facilitate; participants see only their own case. Anyone
else gets NotFound (not Forbidden), so a case id from another case reveals nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.models import Account, Role
from portal.cases.models import Case, CaseFacilitator, Participant
from portal.db import utcnow
from portal.errors import NotFound


def facilitated_case(db: Session, account: Account, case_id: str) -> Case:
    """The case, if ``account`` facilitates it."""
    if account.role is not Role.FACILITATOR:
        raise NotFound
    case = db.get(Case, case_id)
    if case is None or db.get(CaseFacilitator, (case_id, account.id)) is None:
        raise NotFound
    return case


def cases_facilitated_by(db: Session, account: Account) -> list[Case]:
    if account.role is not Role.FACILITATOR:
        return []
    return list(
        db.scalars(
            select(Case)
            .join(CaseFacilitator, CaseFacilitator.case_id == Case.id)
            .where(CaseFacilitator.account_id == account.id)
            .order_by(Case.created_at.desc())
            # The cases list counts each case's participants: one query for all, not one each.
            .options(selectinload(Case.participants))
        )
    )


def recent_withdrawals(
    db: Session, account: Account, days: int = 30
) -> list[tuple[Case, Participant]]:
    """Participants in the facilitator's cases who withdrew lately: shown as alerts."""
    since = utcnow() - timedelta(days=days)
    rows = db.execute(
        select(Case, Participant)
        .join(Participant, Participant.case_id == Case.id)
        .join(CaseFacilitator, CaseFacilitator.case_id == Case.id)
        .where(CaseFacilitator.account_id == account.id, Participant.withdrawn_at > since)
        .order_by(Participant.withdrawn_at.desc())
    ).all()
    return [(case, participant) for case, participant in rows]


def participation(db: Session, account: Account) -> Participant | None:
    """The participant row of a participant's account (an account belongs to one case)."""
    if account.role is not Role.PARTICIPANT:
        return None
    return db.scalars(select(Participant).where(Participant.account_id == account.id)).first()


def participant_in_case(db: Session, case: Case, participant_id: str) -> Participant:
    participant = db.get(Participant, participant_id)
    if participant is None or participant.case_id != case.id:
        raise NotFound
    return participant
