"""Who may see a case: the one place the rule lives.

Facilitators see only the cases they facilitate; participants see only their own case. Anyone
else gets NotFound (not Forbidden), so a case id from another case reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, false, func, select
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


@dataclass(frozen=True)
class KeyHandover:
    """A case where someone has joined and waits for the case's public key, which only a
    facilitator's browser can give (it happens when a facilitator opens the case page)."""

    case_id: str
    reference: str
    people: int
    waiting_since: datetime


@dataclass(frozen=True)
class KeyHandovers:
    """The oldest few such cases of a facilitator, and how many people wait in all."""

    cases: list[KeyHandover]
    people: int


def awaiting_case_key(db: Session, account: Account, limit: int = 10) -> KeyHandovers:
    """Who waits in ``account``'s cases for a facilitator's browser to hand over the case key:
    the rows for which the case's state machine offers GIVE_CASE_KEY (cases/states.py:
    joined, not withdrawn, no grant yet, the case not closed), as the database sees them.
    Two statements whatever the number of cases."""
    if account.role is not Role.FACILITATOR:
        return KeyHandovers([], 0)
    waiting = (
        select(Participant.case_id, Participant.joined_at)
        .join(Case, Case.id == Participant.case_id)
        .where(
            Participant.case_id.in_(facilitated_ids(account)),
            Participant.account_id.is_not(None),
            Participant.withdrawn_at.is_(None),
            Participant.case_public_grant.is_(None),
            Case.status != CaseCondition.CLOSED,
        )
        .subquery()
    )
    people = db.scalar(select(func.count()).select_from(waiting)) or 0
    if not people:
        return KeyHandovers([], 0)
    since = func.min(waiting.c.joined_at)
    rows = db.execute(
        select(Case.id, Case.reference, func.count(), since)
        .join(waiting, waiting.c.case_id == Case.id)
        .group_by(Case.id, Case.reference)
        .order_by(since, Case.id)
        .limit(limit)
    ).all()
    return KeyHandovers([KeyHandover(*row) for row in rows], people)


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
