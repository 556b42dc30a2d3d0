"""Two facilitators recording the same stage of one case at once, on PostgreSQL, in real
concurrent transactions (cases/path.py locks the case's row first): one move is recorded and
the other, which sees the case already there when its turn comes, is refused; and a stage
recorded against the case being closed: whichever comes second is refused."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases import path, services
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    CaseStage,
    ClosingReason,
    StageMove,
)
from portal.db import make_session_factory
from portal.errors import Conflict
from portal.settings import Settings
from tests import rows
from tests.support.locks import second_waits_for_first


def _scene(engine: Engine) -> tuple[str, str, str]:
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        first = rows.facilitator_of(case)
        second = rows.account(db, Role.FACILITATOR)
        db.add(CaseFacilitator(case_id=case.id, account_id=second.id))
        scene = (case.id, first.id, second.id)
        db.commit()
    return scene


def _moves(engine: Engine, case_id: str) -> list[CaseStage]:
    with make_session_factory(engine)() as db:
        return list(db.scalars(select(StageMove.stage).where(StageMove.case_id == case_id)))


def test_two_facilitators_recording_first_contact_at_once_record_it_once(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine)

    def records(account_id: str) -> Callable[[Session], None]:
        def change(db: Session) -> None:
            path.move_to(
                db,
                pg_settings,
                rows.found(db, Account, account_id),
                rows.found(db, Case, case_id),
                CaseStage.FIRST_CONTACT,
                None,
            )

        return change

    refused = second_waits_for_first(
        make_session_factory(pg_engine), pg_engine, records(first_id), records(second_id)
    )
    assert isinstance(refused, Conflict), repr(refused)
    assert _moves(pg_engine, case_id) == [CaseStage.FIRST_CONTACT]


def test_a_stage_recorded_while_the_case_closes_is_refused(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine)

    def closes(db: Session) -> None:
        who, case = rows.found(db, Account, first_id), rows.found(db, Case, case_id)
        services.set_status(
            db, pg_settings, who, case, CaseCondition.CLOSED, ClosingReason.NO_CONTACT
        )

    def records(db: Session) -> None:
        who, case = rows.found(db, Account, second_id), rows.found(db, Case, case_id)
        path.move_to(db, pg_settings, who, case, CaseStage.ASSESSMENT, None)

    refused = second_waits_for_first(make_session_factory(pg_engine), pg_engine, closes, records)
    assert isinstance(refused, Conflict), repr(refused)
    assert refused.message == "This case is closed."
    assert _moves(pg_engine, case_id) == [CaseStage.CLOSED]
    with make_session_factory(pg_engine)() as db:
        closed = db.get(Case, case_id)
        assert closed is not None
        assert (closed.stage, closed.closing_reason) == (
            CaseStage.CLOSED,
            ClosingReason.NO_CONTACT,
        )
        assert db.scalar(select(func.count()).select_from(StageMove)) == 1
