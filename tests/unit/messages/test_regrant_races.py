"""Giving access again racing the access being taken away, on PostgreSQL, in real concurrent
transactions (portal/messages/regrants.py, portal/workspace/supporters.py take_away_access).

A supporter compared in person after a letter was opened is owed a grant for it. If the
participant takes the supporter's access away while a facilitator's browser grants it again,
whichever commits first, the supporter ends with no grant at all: the revocation locks the
supporter's row first, and so does the grant again, which then finds the access gone (409); a
grant again that committed first is deleted with every other grant by the revocation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases.models import Case, Side, Supporter, SupporterKind
from portal.content.models import ContentGrant
from portal.db import make_session_factory, utcnow
from portal.errors import Conflict
from portal.messages.states import MessageState
from portal.settings import Settings
from portal.workspace.supporters import take_away_access
from tests import rows
from tests.support.locks import second_waits_for_first
from tests.unit.messages.regranting import regrant_current_version

Change = Callable[[Session, Settings, "Scene"], None]


@dataclass(frozen=True)
class Scene:
    case_id: str
    message_id: str
    facilitator_id: str
    recipient_account_id: str
    supporter_id: str
    supporter_account_id: str


def _scene(engine: Engine) -> Scene:
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        facilitator = rows.facilitator_of(case)
        author = rows.participant(db, case, Side.PERSON_RESPONSIBLE)
        recipient = rows.participant(db, case, Side.PERSON_HARMED)
        message = rows.message(db, author, recipient, MessageState.OPENED)
        reader = rows.account(db, Role.SUPPORTER)
        place = Supporter(
            case_id=case.id,
            participant_id=recipient.id,
            account_id=reader.id,
            kind=SupporterKind.SUPPORTER,
            may_read=True,
            may_write=False,
            may_receive_notices=False,
            display_name=b"sealed",
            invited_by_id=facilitator.id,
            joined_at=utcnow(),
            # Compared in person after the letter was opened: owed a grant for it.
            key_verified_at=utcnow(),
            key_verified_by_id=facilitator.id,
            verified_public_key=reader.public_key,
        )
        db.add(place)
        db.flush()
        assert recipient.account_id is not None
        scene = Scene(
            case.id, message.id, facilitator.id, recipient.account_id, place.id, reader.id
        )
        db.commit()
    return scene


def grant_again(db: Session, settings: Settings, scene: Scene) -> None:
    regrant_current_version(
        db,
        settings,
        case_id=scene.case_id,
        facilitator_id=scene.facilitator_id,
        account_id=scene.supporter_account_id,
        message_id=scene.message_id,
    )


def take_away(db: Session, settings: Settings, scene: Scene) -> None:
    case = db.get(Case, scene.case_id)
    recipient = db.get(Account, scene.recipient_account_id)
    place = db.get(Supporter, scene.supporter_id)
    assert case is not None
    assert recipient is not None
    assert place is not None
    take_away_access(db, settings, recipient, case, place)


def _race(
    engine: Engine, settings: Settings, scene: Scene, first: Change, second: Change
) -> BaseException | None:
    """``first`` holds its transaction; ``second`` starts, must wait for it; then commit."""
    return second_waits_for_first(
        make_session_factory(engine),
        engine,
        lambda db: first(db, settings, scene),
        lambda db: second(db, settings, scene),
    )


def _grants_to_supporter(engine: Engine, scene: Scene) -> list[ContentGrant]:
    with make_session_factory(engine)() as db:
        return list(
            db.scalars(
                select(ContentGrant).where(
                    ContentGrant.recipient_account_id == scene.supporter_account_id
                )
            )
        )


@pytest.mark.parametrize(("first", "second"), [(take_away, grant_again), (grant_again, take_away)])
def test_access_taken_away_while_granted_again_leaves_the_supporter_nothing(
    pg_engine: Engine, pg_settings: Settings, first: Change, second: Change
) -> None:
    scene = _scene(pg_engine)
    error = _race(pg_engine, pg_settings, scene, first, second)
    if second is grant_again:
        assert isinstance(error, Conflict), repr(error)
    else:
        assert error is None
    assert _grants_to_supporter(pg_engine, scene) == []
    with make_session_factory(pg_engine)() as db:
        place = db.get(Supporter, scene.supporter_id)
        assert place is not None
        assert place.revoked_at is not None
