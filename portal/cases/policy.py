"""Who may see a case: the one place the rule lives.

Facilitators see only the cases they facilitate; participants see only their own case. Anyone
else gets NotFound (not Forbidden), so a case id from another case reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases.models import Case, CaseCondition, CaseFacilitator, Participant
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


def cases_query(account: Account) -> Select[Case]:
    """The cases ``account`` facilitates, newest first (none unless a facilitator)."""
    query = (
        select(Case)
        .join(CaseFacilitator, CaseFacilitator.case_id == Case.id)
        .where(CaseFacilitator.account_id == account.id)
        .order_by(Case.created_at.desc(), Case.id)
    )
    return query if account.role is Role.FACILITATOR else query.where(false())


def facilitated_ids(account: Account) -> Select[str]:
    """The ids of those cases, as a subquery for ``IN`` (never loaded into Python)."""
    return select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == account.id)


@dataclass(frozen=True)
class CaseChoice:
    """A case as a filter lists it: no participants loaded."""

    id: str
    reference: str
    label: str
    status: CaseCondition


def case_choices(db: Session, account: Account) -> list[CaseChoice]:
    """Every case ``account`` facilitates, newest first, as plain rows (one statement)."""
    rows = db.execute(
        cases_query(account).with_only_columns(Case.id, Case.reference, Case.label, Case.status)
    ).all()
    return [CaseChoice(*row) for row in rows]


def recent_withdrawals(
    db: Session, account: Account, days: int = 30, limit: int = 10
) -> list[tuple[Case, Participant]]:
    """Participants in the facilitator's cases who withdrew lately, the latest ``limit``: shown
    as alerts."""
    since = utcnow() - timedelta(days=days)
    rows = db.execute(
        select(Case, Participant)
        .join(Participant, Participant.case_id == Case.id)
        .join(CaseFacilitator, CaseFacilitator.case_id == Case.id)
        .where(CaseFacilitator.account_id == account.id, Participant.withdrawn_at > since)
        .order_by(Participant.withdrawn_at.desc())
        .limit(limit)
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
