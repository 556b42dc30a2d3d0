"""Which homes a transaction's changes concern, counted as it commits.

The facilitator's home (workspace/facilitator_home.py) reads thirteen tables. A change to any
of them can alter the homes of the facilitators of the case it belongs to, or of one account
(a referral assigned, an event of their own). As an ORM session commits, each change it flushed
is mapped to those accounts and their count in ``home_heads`` goes up by one, in the same
transaction: a home kept at the old count is then read again (portal/homes/store.py).

Nothing has to remember to call this: it listens to every ORM session. Rows changed by a
statement (``update()``, ``delete()``) rather than as objects name what they concern through
the execution option ``db.HOME_TOUCHES``; one that names nothing counts a change for every
kept home (safe, only slower). A change made outside any ORM session is not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, event, inspect, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from portal.accounts.models import Account
from portal.audit.models import AuditEvent
from portal.audit.tags import AuditTag
from portal.cases.models import Case, CaseFacilitator, Participant, Supporter, SupporterRequest
from portal.casework.models import AgreementItem
from portal.content.models import ContentGrant, ContentObject
from portal.db import HOME_TOUCHES
from portal.homes.models import HomeHead
from portal.messages.models import Message
from portal.notifications.models import AccountEvent
from portal.referrals.models import Referral, ReferralReader

_KEY = "portal_home_touches"
# Ids per statement when resolving (well under every database's limit on bound values).
_BATCH = 500

# What the home's statement reads (a test checks this against the statement itself).
READ_TABLES = frozenset(
    {
        "account_events",
        "accounts",
        "agreement_items",
        "audit_events",
        "case_facilitators",
        "case_supporters",
        "cases",
        "content_grants",
        "messages",
        "participants",
        "referral_readers",
        "referrals",
        "supporter_requests",
    }
)


@dataclass
class Touches:
    """What a transaction's changes concern so far."""

    cases: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    # Accounts whose every case is concerned (a participant's or supporter's keys changed).
    accounts_cases: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    referrals: set[str] = field(default_factory=set)
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.everyone
            or self.cases
            or self.accounts
            or self.accounts_cases
            or self.objects
            or self.referrals
        )

    def add(self, other: Touches) -> None:
        self.cases |= other.cases
        self.accounts |= other.accounts
        self.accounts_cases |= other.accounts_cases
        self.objects |= other.objects
        self.referrals |= other.referrals
        self.everyone = self.everyone or other.everyone


def _touches(db: Session) -> Touches:
    found = db.info.get(_KEY)
    if found is None:
        found = db.info[_KEY] = Touches()
    return found


class _Unknown(Exception):
    """A deleted row's attribute that was never loaded: what it concerned cannot be told."""


def _values(row: object, name: str) -> list[Any]:
    """The attribute's value now and, if this flush changed it, before. A row deleted with the
    attribute unloaded (expired) cannot be asked: its row is gone."""
    state = inspect(row)
    if name not in state.dict and state.deleted:
        raise _Unknown
    if name not in state.dict:
        getattr(row, name)  # loaded now, from the row this flush left
    history = state.attrs[name].history
    return [v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None]


def _note(touches: Touches, row: object) -> None:
    """What a changed ORM object concerns."""
    if isinstance(row, Case):
        touches.cases.update(_values(row, "id"))
        touches.referrals.update(_values(row, "referral_id"))
    elif isinstance(row, CaseFacilitator):
        touches.cases.update(_values(row, "case_id"))
        touches.accounts.update(_values(row, "account_id"))
    elif isinstance(row, Message | Participant | Supporter | AgreementItem | SupporterRequest):
        touches.cases.update(_values(row, "case_id"))
    elif isinstance(row, AuditEvent):
        # A case's id, or another's (then it matches no case).
        touches.cases.update(_values(row, "subject_id"))
        if row.tag == AuditTag.CASE_HANDED_OVER:
            touches.accounts.update(_values(row, "actor_id"))
    elif isinstance(row, ContentGrant):
        touches.objects.update(_values(row, "object_id"))
    elif isinstance(row, Account):
        touches.accounts.update(_values(row, "id"))
        touches.accounts_cases.update(_values(row, "id"))
    elif isinstance(row, Referral):
        touches.referrals.update(_values(row, "id"))
        touches.accounts.update(_values(row, "assigned_facilitator_id"))
    elif isinstance(row, ReferralReader | AccountEvent):
        touches.accounts.update(_values(row, "account_id"))


@event.listens_for(Session, "after_flush")
def _after_flush(db: Session, _flush: UOWTransaction) -> None:
    touches = _touches(db)
    for row in (*db.new, *db.dirty, *db.deleted):
        try:
            _note(touches, row)
        except _Unknown:
            touches.everyone = True


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    target = getattr(state.statement, "table", None)
    if not isinstance(target, Table) or target.name not in READ_TABLES:
        return
    named = state.execution_options.get(HOME_TOUCHES)
    if named is None:
        _touches(state.session).everyone = True
    else:
        _touches(state.session).add(
            Touches(
                cases=set(named.get("cases", ())),
                accounts=set(named.get("accounts", ())),
                accounts_cases=set(named.get("accounts_cases", ())),
                objects=set(named.get("objects", ())),
            )
        )


@event.listens_for(Session, "before_commit")
def _before_commit(db: Session) -> None:
    count_now(db)


def count_now(db: Session) -> None:
    """Count what ``db``'s transaction changed so far, as its commit does (tests reach the
    moment between counting and committing with it)."""
    db.flush()  # what is still pending is noted in after_flush
    touches = db.info.pop(_KEY, None)
    if touches:
        count(db, touches)


@event.listens_for(Session, "after_rollback")
def _after_rollback(db: Session) -> None:
    db.info.pop(_KEY, None)


def _batches(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _BATCH):
        yield ordered[start : start + _BATCH]


def concerned(db: Session, touches: Touches) -> set[str]:
    """The accounts whose home ``touches`` may alter."""
    accounts = set(touches.accounts)
    cases = set(touches.cases)
    for batch in _batches(touches.accounts_cases):
        cases.update(
            db.scalars(
                union(
                    select(Participant.case_id).where(Participant.account_id.in_(batch)),
                    select(Supporter.case_id).where(Supporter.account_id.in_(batch)),
                )
            )
        )
    for batch in _batches(touches.objects):
        cases.update(db.scalars(select(ContentObject.case_id).where(ContentObject.id.in_(batch))))
    for batch in _batches(touches.referrals):
        accounts.update(
            a
            for a in db.scalars(
                select(Referral.assigned_facilitator_id).where(Referral.id.in_(batch))
            )
            if a is not None
        )
    for batch in _batches(cases):
        accounts.update(
            db.scalars(select(CaseFacilitator.account_id).where(CaseFacilitator.case_id.in_(batch)))
        )
    return accounts


def count(db: Session, touches: Touches) -> None:
    """Add one to the count of changes of every home ``touches`` concerns, in this transaction.

    In the accounts' order, so that two transactions counting for the same people never wait
    for each other crosswise; each waits for the other's commit on a row it counts (PostgreSQL),
    which is what keeping a home relies on (portal/homes/store.py).
    """
    if touches.everyone:
        ids = db.scalars(
            select(HomeHead.account_id).order_by(HomeHead.account_id).with_for_update()
        ).all()
        if ids:
            db.execute(
                update(HomeHead).values(changes=HomeHead.changes + 1),
                execution_options={"synchronize_session": False},
            )
        return
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    for batch in _batches(concerned(db, touches)):
        statement = insert(HomeHead).values([{"account_id": a, "changes": 1} for a in batch])
        db.execute(
            statement.on_conflict_do_update(
                index_elements=[HomeHead.account_id],
                set_={"changes": HomeHead.changes + 1},
            )
        )
