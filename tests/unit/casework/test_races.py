"""A case's records changed at once by two facilitators, or while the case closes, on
PostgreSQL in real concurrent transactions (portal/casework/services.py: completing, moving or
removing locks the case's row, then the item's; adding holds the case's row shared): whichever
comes second sees the first's result and is refused, and nothing is half-written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.cases import services as cases
from portal.cases.models import Case, CaseCondition, CaseFacilitator, ClosingReason
from portal.casework import services
from portal.casework.models import AgreementItem, AgreementKind, CaseNote
from portal.db import make_session_factory
from portal.errors import BadInput, Conflict
from portal.settings import Settings
from tests import rows
from tests.support.locks import second_waits_for_first

ITEM_ID = "6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
NOTE_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def _scene(engine: Engine, settings: Settings) -> tuple[str, str, str]:
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        first = rows.facilitator_of(case)
        second = rows.account(db, Role.FACILITATOR)
        db.add(CaseFacilitator(case_id=case.id, account_id=second.id))
        services.add_item(
            db,
            settings,
            first,
            case,
            services.ItemIn(ITEM_ID, AgreementKind.APOLOGY, date.today(), b"sealed"),
        )
        scene = (case.id, first.id, second.id)
        db.commit()
    return scene


def _tags(engine: Engine, tag: str) -> int:
    with make_session_factory(engine)() as db:
        return int(db.scalar(select(func.count()).where(AuditEvent.tag == tag)) or 0)


def test_two_facilitators_completing_one_item_at_once_complete_it_once(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine, pg_settings)

    def completes(account_id: str) -> Callable[[Session], None]:
        def change(db: Session) -> None:
            case = rows.found(db, Case, case_id)
            item = services.item_in(db, case, ITEM_ID)
            services.complete_item(
                db, pg_settings, rows.found(db, Account, account_id), case, item, None
            )

        return change

    refused = second_waits_for_first(
        make_session_factory(pg_engine), pg_engine, completes(first_id), completes(second_id)
    )
    assert isinstance(refused, Conflict), repr(refused)
    assert _tags(pg_engine, "agreement:item-completed") == 1


def test_an_item_completed_while_the_case_closes_is_refused(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine, pg_settings)

    def closes(db: Session) -> None:
        who, case = rows.found(db, Account, first_id), rows.found(db, Case, case_id)
        cases.set_status(db, pg_settings, who, case, CaseCondition.CLOSED, ClosingReason.COMPLETED)

    def completes(db: Session) -> None:
        case = rows.found(db, Case, case_id)
        item = services.item_in(db, case, ITEM_ID)
        services.complete_item(
            db, pg_settings, rows.found(db, Account, second_id), case, item, None
        )

    refused = second_waits_for_first(make_session_factory(pg_engine), pg_engine, closes, completes)
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(pg_engine)() as db:
        item = db.get(AgreementItem, ITEM_ID)
        assert item is not None
        assert item.completed_on is None


def test_a_note_written_while_the_case_closes_is_refused_and_not_kept(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine, pg_settings)

    def closes(db: Session) -> None:
        who, case = rows.found(db, Account, first_id), rows.found(db, Case, case_id)
        cases.set_status(db, pg_settings, who, case, CaseCondition.CLOSED, ClosingReason.COMPLETED)

    def writes(db: Session) -> None:
        who, case = rows.found(db, Account, second_id), rows.found(db, Case, case_id)
        services.write_note(db, pg_settings, who, case, NOTE_ID, b"sealed")

    refused = second_waits_for_first(make_session_factory(pg_engine), pg_engine, closes, writes)
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(pg_engine)() as db:
        assert db.get(CaseNote, NOTE_ID) is None
    assert _tags(pg_engine, "case:note-written") == 0


def _moves_to(
    settings: Settings, case_id: str, account_id: str, due: date
) -> Callable[[Session], None]:
    def change(db: Session) -> None:
        case = rows.found(db, Case, case_id)
        item = services.item_in(db, case, ITEM_ID)
        services.change_due(db, settings, rows.found(db, Account, account_id), case, item, due)

    return change


def test_two_facilitators_moving_an_item_to_one_day_at_once_move_it_once(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine, pg_settings)
    day = date.today() + timedelta(days=9)
    refused = second_waits_for_first(
        make_session_factory(pg_engine),
        pg_engine,
        _moves_to(pg_settings, case_id, first_id, day),
        _moves_to(pg_settings, case_id, second_id, day),
    )
    # The second saw the first's new day on the locked row: nothing to change.
    assert isinstance(refused, BadInput), repr(refused)
    assert _tags(pg_engine, "agreement:item-due-date-changed") == 1
    with make_session_factory(pg_engine)() as db:
        item = db.get(AgreementItem, ITEM_ID)
        assert item is not None
        assert (item.due_on, item.first_due_on) == (day, date.today())


def test_an_item_completed_while_it_is_moved_keeps_its_day(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    case_id, first_id, second_id = _scene(pg_engine, pg_settings)

    def completes(db: Session) -> None:
        case = rows.found(db, Case, case_id)
        item = services.item_in(db, case, ITEM_ID)
        services.complete_item(db, pg_settings, rows.found(db, Account, first_id), case, item, None)

    later = date.today() + timedelta(days=9)
    refused = second_waits_for_first(
        make_session_factory(pg_engine),
        pg_engine,
        completes,
        _moves_to(pg_settings, case_id, second_id, later),
    )
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(pg_engine)() as db:
        item = db.get(AgreementItem, ITEM_ID)
        assert item is not None
        assert (item.due_on, item.first_due_on, item.completed_on) == (
            date.today(),
            None,
            date.today(),
        )
    assert _tags(pg_engine, "agreement:item-due-date-changed") == 0
