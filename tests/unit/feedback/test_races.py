"""One person answering (or dismissing) the feedback offer twice at once, on PostgreSQL, in real
concurrent transactions (feedback/services.py locks their participant row first): the second
waits, then finds the offer answered and is refused, so one answer is kept."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.cases.models import CaseCondition, Side
from portal.db import make_session_factory
from portal.errors import Conflict
from portal.feedback import services
from portal.feedback.models import FeedbackAnswer, FeedbackOffer, OfferOutcome, Reply
from portal.feedback.schemas import Answers
from tests import rows
from tests.support.locks import second_waits_for_first

GIVEN = Answers(Reply.YES, None, None, key_id=None, sealed_text=None)


def _person_of_a_closed_case(engine: Engine) -> str:
    with make_session_factory(engine)() as db:
        case = rows.case(db, status=CaseCondition.CLOSED)
        participant = rows.participant(db, case, Side.PERSON_HARMED)
        assert participant.account_id is not None
        account_id = participant.account_id
        db.commit()
    return account_id


def _race(engine: Engine, first: str, second: str) -> tuple[BaseException | None, Engine, str]:
    account_id = _person_of_a_closed_case(engine)

    def act(what: str) -> Callable[[Session], None]:
        def change(db: Session) -> None:
            account = rows.found(db, Account, account_id)
            if what == "answer":
                services.answer(db, account, GIVEN)
            else:
                services.dismiss(db, account)

        return change

    refused = second_waits_for_first(make_session_factory(engine), engine, act(first), act(second))
    return refused, engine, account_id


def test_two_answers_at_once_keep_one(pg_engine: Engine) -> None:
    refused, engine, _account_id = _race(pg_engine, "answer", "answer")
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(engine)() as db:
        assert db.scalar(select(func.count()).select_from(FeedbackAnswer)) == 1
        assert db.scalars(select(FeedbackOffer.outcome)).all() == [OfferOutcome.ANSWERED]


def test_a_dismissal_racing_an_answer_is_refused(pg_engine: Engine) -> None:
    refused, engine, _ = _race(pg_engine, "answer", "dismiss")
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(engine)() as db:
        assert db.scalars(select(FeedbackOffer.outcome)).all() == [OfferOutcome.ANSWERED]
