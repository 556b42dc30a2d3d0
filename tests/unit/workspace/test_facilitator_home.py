"""The facilitator's home in one statement (portal/workspace/facilitator_home.py) shows what
each domain's own query shows: the same key hand-overs, withdrawals and security events as
cases/policy.py and workspace/security_events.py find one by one, and the waiting items counted
exactly up to 99, then "more than 99"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import path
from portal.cases import policy as case_policy
from portal.cases.models import Case, CaseCondition, CaseFacilitator, Participant
from portal.casework import rules as casework_rules
from portal.db import DriverQuery, utcnow
from portal.demo_scale import Scale, seed_scale
from portal.messages import paper, regrants
from portal.messages.models import Message
from portal.messages.states import WAITING_FOR_REVIEW, MessageState
from portal.settings import Settings
from portal.workspace import security_events
from portal.workspace.facilitator_home import HOME, WAITING_SHOWN, facilitator_home
from tests import rows


def _facilitator(db: Session, settings: Settings) -> tuple[Account, list[str]]:
    seeded = seed_scale(db, settings, Scale(cases=4, messages=160, seed=5), "password")
    account = db.scalars(
        select(Account).where(Account.sign_in_name == seeded.facilitator_name)
    ).one()
    cases = list(
        db.scalars(select(CaseFacilitator.case_id).where(CaseFacilitator.account_id == account.id))
    )
    return account, cases


def _waiting(db: Session, account: Account) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(Message)
            .join(CaseFacilitator, CaseFacilitator.case_id == Message.case_id)
            .where(
                CaseFacilitator.account_id == account.id,
                Message.state.in_(WAITING_FOR_REVIEW),
            )
        )
        or 0
    )


def test_the_home_counts_what_waits_exactly_up_to_99(
    db_session: Session, settings: Settings
) -> None:
    account, cases = _facilitator(db_session, settings)
    in_cases = Message.case_id.in_(cases)
    db_session.execute(update(Message).where(in_cases).values(state=MessageState.OPENED))
    first_seven = select(Message.id).where(in_cases).order_by(Message.id).limit(7)
    db_session.execute(
        update(Message)
        .where(Message.id.in_(first_seven.scalar_subquery()))
        .values(state=MessageState.SUBMITTED)
    )
    home = facilitator_home(db_session, account).context
    assert _waiting(db_session, account) == 7
    assert str(home["queue_count"]) == "7"
    assert not home["queue_count"].more_than_shown


def test_the_home_says_more_than_99_past_it(db_session: Session, settings: Settings) -> None:
    account, cases = _facilitator(db_session, settings)
    db_session.execute(
        update(Message).where(Message.case_id.in_(cases)).values(state=MessageState.IN_REVIEW)
    )
    assert _waiting(db_session, account) > WAITING_SHOWN + 1
    home = facilitator_home(db_session, account).context
    assert str(home["queue_count"]) == "more than 99"


def test_nothing_waiting_is_no_count(db_session: Session, settings: Settings) -> None:
    account, cases = _facilitator(db_session, settings)
    db_session.execute(
        update(Message).where(Message.case_id.in_(cases)).values(state=MessageState.OPENED)
    )
    assert not facilitator_home(db_session, account).context["queue_count"]


def test_the_home_lists_what_each_domain_finds(db_session: Session, settings: Settings) -> None:
    account, cases = _facilitator(db_session, settings)
    participants = list(
        db_session.scalars(
            select(Participant)
            .where(Participant.case_id.in_(cases), Participant.account_id.is_not(None))
            .order_by(Participant.id)
        )
    )
    # Two people waiting for their case key, one who withdrew lately and one long ago.
    now = utcnow()
    for waiting in participants[:2]:
        waiting.case_public_grant = None
        waiting.joined_at = now - timedelta(days=1)
        waiting.withdrawn_at = None
    participants[2].withdrawn_at = now - timedelta(days=2)
    participants[3].withdrawn_at = now - timedelta(days=90)
    record(db_session, settings, AuditTag.SECURITY_CASE_KEY_NOT_GENUINE, subject_id=cases[0])
    record(db_session, settings, AuditTag.SECURITY_RELEASE_NOT_GENUINE, subject_id=cases[1])
    db_session.flush()

    home = facilitator_home(db_session, account).context

    handovers = case_policy.awaiting_case_key(db_session, account)
    assert handovers.people >= 1  # (a closed case's people wait for nothing)
    assert home["handovers"] == handovers
    assert home["withdrawals"] == case_policy.recent_withdrawals(db_session, account)
    assert [w.withdrawn_at for w in home["withdrawals"]][:1] == [participants[2].withdrawn_at]
    events = security_events.events_for(db_session, account)
    assert len(events) == 2
    assert home["security_events"] == events
    assert home["security_events"][0].case is not None


def test_the_home_lists_my_cases_waiting_for_their_next_key(
    db_session: Session, settings: Settings
) -> None:
    account, cases = _facilitator(db_session, settings)
    assert facilitator_home(db_session, account).context["new_case_keys"] == []
    since = utcnow() - timedelta(hours=3)
    waiting = db_session.get(Case, cases[1])
    assert waiting is not None
    waiting.key_change_since = since
    elsewhere = rows.case(db_session)  # not mine: never listed
    elsewhere.key_change_since = since
    db_session.flush()
    (listed,) = facilitator_home(db_session, account).context["new_case_keys"]
    assert (listed.case_id, listed.reference, listed.since) == (
        waiting.id,
        waiting.reference,
        since,
    )


def test_the_home_statements_on_the_driver_give_what_sqlalchemy_gives(
    db_session: Session, settings: Settings
) -> None:
    """The home's statements run on the driver (db.DriverQuery): the same rows, converted to
    the same values, as SQLAlchemy's own execution of them."""
    account, cases = _facilitator(db_session, settings)
    participants = list(
        db_session.scalars(
            select(Participant)
            .where(Participant.case_id.in_(cases), Participant.account_id.is_not(None))
            .order_by(Participant.id)
        )
    )
    now = utcnow()
    participants[0].case_public_grant = None
    participants[0].joined_at = now - timedelta(days=1)
    participants[1].withdrawn_at = now - timedelta(days=2)
    record(db_session, settings, AuditTag.SECURITY_CASE_KEY_NOT_GENUINE, subject_id=cases[0])
    db_session.flush()
    since = now - timedelta(days=case_policy.WITHDRAWALS_DAYS)
    queries: list[tuple[DriverQuery, dict[str, Any]]] = [
        (
            HOME,
            {
                "account_id": account.id,
                "since": since,
                "follow_up_by": casework_rules.follow_up_by(path.today()),
                "now": now,
            },
        ),
        (regrants._waiting_query(), {"account_id": account.id, "now": now}),
        (regrants._written_for_query(), {"account_id": account.id}),
        (paper._to_print_query(), {"account_id": account.id}),
    ]
    for query, parameters in queries:
        expected = [tuple(row) for row in db_session.execute(query.statement, parameters)]
        assert sorted(query.all(db_session, parameters), key=repr) == sorted(expected, key=repr)
    home_rows = queries[0][0].all(db_session, queries[0][1])
    kinds = {row[0] for row in home_rows}
    assert {"security", "withdrawal", "waiting"} <= kinds
    assert all(row[1].tzinfo is not None for row in home_rows if row[1] is not None)


def test_a_grant_is_looked_for_to_the_person_owed_not_to_anyone_in_their_table() -> None:
    """messages/regrants._missing_grant sits in an EXISTS over messages: its account column
    (the participant's or supporter's) must be the enclosing person's row, not a table of its
    own in the subquery ("no grant to any participant at all", and a look-up of every grant's
    account). So the grant subqueries of the statements the home folds in read content_grants
    alone."""
    for statement in (regrants.waiting_statement(), regrants.written_for_statement()):
        sql = " ".join(str(statement.compile()).split())
        assert "FROM content_grants WHERE" in sql
        assert "FROM content_grants," not in sql


def test_the_home_counts_everyone_waiting_for_a_case_key_beyond_the_cases_listed(
    db_session: Session, settings: Settings
) -> None:
    seeded = seed_scale(
        db_session, settings, Scale(cases=case_policy.HANDOVERS_SHOWN + 3, messages=26), "pw"
    )
    account = db_session.scalars(
        select(Account).where(Account.sign_in_name == seeded.facilitator_name)
    ).one()
    joined = list(
        db_session.scalars(select(Participant).where(Participant.account_id.is_not(None)))
    )
    now = utcnow()
    for number, participant in enumerate(joined):
        participant.case_public_grant = None
        participant.withdrawn_at = None
        participant.joined_at = now - timedelta(minutes=number)
    db_session.execute(update(Case).values(status=CaseCondition.OPEN))
    db_session.flush()
    waiting_cases = {participant.case_id for participant in joined}
    assert len(waiting_cases) > case_policy.HANDOVERS_SHOWN

    handovers = facilitator_home(db_session, account).context["handovers"]

    everyone = select(func.count()).select_from(case_policy.awaiting_case_key_rows(account.id))
    assert handovers.people == db_session.scalar(everyone)
    assert handovers.people >= len(joined)
    assert len(handovers.cases) == case_policy.HANDOVERS_SHOWN
    assert sum(case.people for case in handovers.cases) < handovers.people
    assert handovers == case_policy.awaiting_case_key(db_session, account)
