"""Who may see a case: the one place the rule lives.

Facilitators see only the cases they facilitate; participants see only their own case. Anyone
else gets NotFound (not Forbidden), so a case id from another case reveals nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    Participant,
    Side,
    Supporter,
    SupporterKind,
    SupporterRequest,
)
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


def facilitated_by(case_id: Any, facilitator_id: Any) -> ColumnElement[bool]:
    """The ON clause of a join to ``case_facilitators`` that keeps the rows whose ``case_id``
    is one of ``facilitator_id``'s cases (an account id or a bound parameter).

    A join rather than ``case_id IN (SELECT case_id ...)``: the planner may start from either
    side, and SQLite builds no temporary table for it (each ``IN`` list is one, with a page
    cache of its own: on the facilitator's home, a statement of many such lists cost more
    than its rows; bench/README.md, "The facilitator's home, seventh round"). One row at most
    a case: (case_id, account_id) is the table's key."""
    return and_(CaseFacilitator.case_id == case_id, CaseFacilitator.account_id == facilitator_id)


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


WITHDRAWALS_DAYS = 30
WITHDRAWALS_SHOWN = 10


def withdrawals_query(facilitator_id: Any, since: Any) -> Select[str, str, Side, datetime | None]:
    """Participants in the facilitator's cases who withdrew after ``since``, the latest first:
    (case id, case reference, side, withdrawn at). ``facilitator_id`` and ``since`` are values
    or bound parameters, so the facilitator's home can build it once."""
    return (
        select(Case.id, Case.reference, Participant.side, Participant.withdrawn_at)
        .join(Participant, Participant.case_id == Case.id)
        .join(CaseFacilitator, facilitated_by(Case.id, facilitator_id))
        .where(Participant.withdrawn_at > since)
        .order_by(Participant.withdrawn_at.desc())
        .limit(WITHDRAWALS_SHOWN)
    )


@dataclass(frozen=True)
class Withdrawal:
    """Someone in one of the facilitator's cases withdrew lately: shown as an alert."""

    case_id: str
    reference: str
    side: Side
    withdrawn_at: datetime


def recent_withdrawals(db: Session, account: Account) -> list[Withdrawal]:
    """Participants in the facilitator's cases who withdrew in the last WITHDRAWALS_DAYS, the
    latest WITHDRAWALS_SHOWN."""
    since = utcnow() - timedelta(days=WITHDRAWALS_DAYS)
    rows = db.execute(withdrawals_query(account.id, since)).all()
    return [Withdrawal(case_id, ref, side, at) for case_id, ref, side, at in rows if at is not None]


@dataclass(frozen=True)
class NewCaseKey:
    """A case of mine waiting for its next key epoch: a facilitator left at ``since``."""

    case_id: str
    reference: str
    since: datetime


def needing_new_key(db: Session, account: Account) -> list[NewCaseKey]:
    """The facilitator's cases waiting for their next key epoch (cases/team.py), the longest
    waiting first: a task on the queue as on the home (facilitator_home.py finds the same in
    its one statement)."""
    rows = db.execute(
        select(Case.id, Case.reference, Case.key_change_since)
        .where(Case.id.in_(facilitated_ids(account)), Case.key_change_since.is_not(None))
        .order_by(Case.key_change_since, Case.id)
    ).all()
    return [NewCaseKey(case_id, ref, since) for case_id, ref, since in rows if since is not None]


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


HANDOVERS_SHOWN = 10


def awaiting_case_key_rows(facilitator_id: Any) -> Subquery:
    """Who waits in ``facilitator_id``'s cases (a value or a bound parameter) for a
    facilitator's browser to hand over the case key, as (case id, joined at) rows: the rows
    for which the case's state machine offers GIVE_CASE_KEY (cases/states.py: joined, not
    withdrawn, no grant yet, the case not closed), as the database sees them. The
    participants' first three conditions are ix_participants_awaiting_key's own, so only the
    few people waiting are read.

    Supporters and representatives who may write wait for it too (supporter_refusal's
    GIVE_CASE_KEY), while their access lasts: the database's clock decides an end date, so the
    statement still binds nothing but ``account_id``. There are few of them."""
    participants = (
        select(Participant.case_id, Participant.joined_at)
        .join(Case, Case.id == Participant.case_id)
        .join(CaseFacilitator, facilitated_by(Participant.case_id, facilitator_id))
        .where(
            Participant.account_id.is_not(None),
            Participant.withdrawn_at.is_(None),
            Participant.case_public_grant.is_(None),
            Case.status != CaseCondition.CLOSED,
        )
    )
    supporters = (
        select(Supporter.case_id, Supporter.joined_at)
        .join(Case, Case.id == Supporter.case_id)
        .join(Participant, Participant.id == Supporter.participant_id)
        .join(CaseFacilitator, facilitated_by(Supporter.case_id, facilitator_id))
        .where(
            Supporter.account_id.is_not(None),
            Supporter.may_write.is_(True),
            Supporter.revoked_at.is_(None),
            or_(Supporter.ends_at.is_(None), Supporter.ends_at > func.current_timestamp()),
            Supporter.case_public_grant.is_(None),
            Participant.withdrawn_at.is_(None),
            Case.status != CaseCondition.CLOSED,
        )
    )
    return union_all(participants, supporters).subquery()


REQUESTS_SHOWN = 10


@dataclass(frozen=True)
class AskedForSupporter:
    """A participant's open request for a supporter or representative (the facilitator's
    home lists them: talking it through with them is the facilitator's next step)."""

    case_id: str
    reference: str
    kind: SupporterKind
    asked_at: datetime


def supporter_requests_query(facilitator_id: Any) -> Select[str, str, str, Any]:
    """Open requests in the facilitator's cases, the oldest first: (case id, reference, kind,
    asked at). Only while the case is not closed and the participant takes part."""
    return (
        select(
            SupporterRequest.case_id,
            Case.reference,
            SupporterRequest.kind,
            SupporterRequest.requested_at,
        )
        .join(Case, Case.id == SupporterRequest.case_id)
        .join(Participant, Participant.id == SupporterRequest.participant_id)
        .join(CaseFacilitator, facilitated_by(SupporterRequest.case_id, facilitator_id))
        .where(
            SupporterRequest.closed_at.is_(None),
            Participant.withdrawn_at.is_(None),
            Case.status != CaseCondition.CLOSED,
        )
        .order_by(SupporterRequest.requested_at, SupporterRequest.id)
        .limit(REQUESTS_SHOWN)
    )


def handover_cases_query(waiting: Subquery) -> Select[str, str, int, Any, int]:
    """The cases of those rows, the one waiting longest first: (case id, reference, people,
    waiting since, people waiting in all the cases). The last is a window over every case,
    counted before the LIMIT: the count and the list in one pass over the rows (as two
    statements, or two parts of the facilitator's home, the rows were found twice)."""
    since = func.min(waiting.c.joined_at)
    people = func.count()
    return (
        select(Case.id, Case.reference, people, since, cast(func.sum(people).over(), Integer))
        .join(waiting, waiting.c.case_id == Case.id)
        .group_by(Case.id, Case.reference)
        .order_by(since, Case.id)
        .limit(HANDOVERS_SHOWN)
    )


@cache
def _handover_statement() -> Select[str, str, int, Any, int]:
    """awaiting_case_key's statement, built once (bound: ``account_id``): rebuilding it clause
    by clause on every queue page cost more Python than running it."""
    return handover_cases_query(awaiting_case_key_rows(bindparam("account_id")))


def awaiting_case_key(db: Session, account: Account) -> KeyHandovers:
    """Who waits in ``account``'s cases for a facilitator's browser to hand over the case key
    (awaiting_case_key_rows). One statement whatever the number of cases."""
    if account.role is not Role.FACILITATOR:
        return KeyHandovers([], 0)
    rows = db.connection().execute(_handover_statement(), {"account_id": account.id}).all()
    people = rows[0][4] if rows else 0
    return KeyHandovers([KeyHandover(*row[:4]) for row in rows], people)


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


_Row = TypeVar("_Row", Supporter, SupporterRequest)


def _row(db: Session, model: type[_Row], row_id: str, belongs: Callable[[_Row], bool]) -> _Row:
    """The row with this id if it belongs where the caller says; NotFound otherwise (an id
    longer than any id is never looked up)."""
    row = db.get(model, row_id) if len(row_id) <= 36 else None
    if row is None or not belongs(row):
        raise NotFound
    return row


def supporter_in_case(db: Session, case: Case, supporter_id: str) -> Supporter:
    """A supporter's or representative's place in this case (any state)."""
    return _row(db, Supporter, supporter_id, lambda s: s.case_id == case.id)


def supporter_of_facilitated_case(db: Session, account: Account, supporter_id: str) -> Supporter:
    """A supporter's place in a case ``account`` facilitates."""
    supporter = _row(db, Supporter, supporter_id, lambda _s: True)
    facilitated_case(db, account, supporter.case_id)
    return supporter


def own_supporter(db: Session, participant: Participant, supporter_id: str) -> Supporter:
    """A place on this participant's own side (they may see and revoke it)."""
    return _row(db, Supporter, supporter_id, lambda s: s.participant_id == participant.id)


def own_request(db: Session, participant: Participant, request_id: str) -> SupporterRequest:
    """The participant's own request for a supporter."""
    return _row(db, SupporterRequest, request_id, lambda r: r.participant_id == participant.id)


def request_in_case(db: Session, case: Case, request_id: str) -> SupporterRequest:
    """A request for a supporter made in this case."""
    return _row(db, SupporterRequest, request_id, lambda r: r.case_id == case.id)


def support_place(db: Session, account: Account) -> Supporter | None:
    """The place a supporter's account was invited for (an account supports one person)."""
    if account.role is not Role.SUPPORTER:
        return None
    return db.scalars(select(Supporter).where(Supporter.account_id == account.id)).first()
