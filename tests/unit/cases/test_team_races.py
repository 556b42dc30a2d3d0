"""Team changes of one case at once, on PostgreSQL, in real concurrent transactions
(portal/cases/team.py locks the case's row first; SQLite lets one writer in at a time).

- Two facilitators remove each other at once: one wins, the other (no longer on the case when
  its turn comes) is refused, and the case keeps exactly one facilitator.
- A removal against something being sealed to the case key (services.hold_current_epoch, which
  every letter, revision and note goes through): if the removal goes first, the sealing waits,
  sees the case waiting for its next epoch and is refused; if the sealing goes first, the
  removal waits for it (the letter landed before anyone left, sealed to a key the one who left
  held anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases import services, team
from portal.cases.models import Case, CaseFacilitator, CaseKeyGrant
from portal.db import make_session_factory
from portal.errors import Conflict, NotFound
from portal.settings import Settings
from tests import rows
from tests.support.locks import second_waits_for_first

GRANT = b"\x01" * 80


@dataclass(frozen=True)
class Scene:
    case_id: str
    first_id: str
    second_id: str


Change = Callable[[Session, Settings, Scene], None]


def _scene(engine: Engine) -> Scene:
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        first = rows.facilitator_of(case)
        second = rows.account(db, Role.FACILITATOR)
        db.add(CaseFacilitator(case_id=case.id, account_id=second.id))
        for holder in (first, second):
            db.add(
                CaseKeyGrant(
                    case_id=case.id,
                    epoch=1,
                    recipient_id=holder.id,
                    sender_id=first.id,
                    grant=GRANT,
                )
            )
        scene = Scene(case.id, first.id, second.id)
        db.commit()
    return scene


def _case(db: Session, scene: Scene) -> Case:
    found = db.get(Case, scene.case_id)
    assert found is not None
    return found


def _account(db: Session, account_id: str) -> Account:
    found = db.get(Account, account_id)
    assert found is not None
    return found


def first_removes_second(db: Session, settings: Settings, scene: Scene) -> None:
    actor = _account(db, scene.first_id)
    team.remove_facilitator(db, settings, actor, _case(db, scene), scene.second_id)


def second_removes_first(db: Session, settings: Settings, scene: Scene) -> None:
    actor = _account(db, scene.second_id)
    team.remove_facilitator(db, settings, actor, _case(db, scene), scene.first_id)


def seal_to_case_key(db: Session, settings: Settings, scene: Scene) -> None:
    services.hold_current_epoch(db, _case(db, scene))


def _race(
    engine: Engine, settings: Settings, scene: Scene, first: Change, second: Change
) -> tuple[BaseException | None, BaseException | None]:
    """``first`` decides and holds its transaction; ``second`` starts and must wait for it."""
    return None, second_waits_for_first(
        make_session_factory(engine),
        engine,
        lambda db: first(db, settings, scene),
        lambda db: second(db, settings, scene),
    )


def _team(engine: Engine, scene: Scene) -> tuple[int, bool]:
    with make_session_factory(engine)() as db:
        count = db.scalar(
            select(func.count())
            .select_from(CaseFacilitator)
            .where(CaseFacilitator.case_id == scene.case_id)
        )
        return int(count or 0), _case(db, scene).key_change_since is not None


def test_two_facilitators_removing_each_other_leave_exactly_one(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    scene = _scene(pg_engine)
    _none, refused = _race(
        pg_engine, pg_settings, scene, first_removes_second, second_removes_first
    )
    assert isinstance(refused, NotFound | Conflict), repr(refused)
    assert _team(pg_engine, scene) == (1, True)
    with make_session_factory(pg_engine)() as db:
        holders = set(
            db.scalars(
                select(CaseKeyGrant.recipient_id).where(CaseKeyGrant.case_id == scene.case_id)
            )
        )
    assert holders == {scene.first_id}


def test_sealing_after_a_removal_waits_and_is_refused(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    scene = _scene(pg_engine)
    _none, refused = _race(pg_engine, pg_settings, scene, first_removes_second, seal_to_case_key)
    assert isinstance(refused, Conflict), repr(refused)
    assert refused.message == services.SEALING_WAITS


def test_a_removal_waits_for_sealing_already_under_way(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    scene = _scene(pg_engine)
    _none, second_error = _race(
        pg_engine, pg_settings, scene, seal_to_case_key, first_removes_second
    )
    assert second_error is None
    assert _team(pg_engine, scene) == (1, True)
