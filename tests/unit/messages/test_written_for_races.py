"""Letting a participant read what was written on their behalf, racing its withdrawal, on
PostgreSQL, in real concurrent transactions (portal/messages/regrants.py regrant,
portal/messages/services.py withdraw_letter).

Nothing new is granted once a letter was stopped. Both lock the message's row: a withdrawal
that commits first leaves the grant refused (409) and nothing stored; a grant that commits first
stays (the participant keeps reading what went out in their name as far as it went, as its
writer does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases.models import Participant, Side, Supporter, SupporterKind
from portal.content.models import ContentGrant
from portal.db import make_session_factory, utcnow
from portal.errors import Conflict
from portal.messages import services
from portal.messages.models import Message
from portal.messages.states import MessageState
from portal.settings import Settings
from tests import rows
from tests.support.locks import second_waits_for_first
from tests.unit.messages.regranting import regrant_current_version

Change = Callable[[Session, Settings, "Scene"], None]


@dataclass(frozen=True)
class Scene:
    case_id: str
    message_id: str
    facilitator_id: str
    participant_account_id: str


def _scene(engine: Engine) -> Scene:
    """A letter a representative wrote for the person responsible, who was compared in person
    and holds no grant of it yet."""
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        facilitator = rows.facilitator_of(case)
        author = rows.participant(db, case, Side.PERSON_RESPONSIBLE)
        recipient = rows.participant(db, case, Side.PERSON_HARMED)
        writer = rows.account(db, Role.SUPPORTER)
        place = Supporter(
            case_id=case.id,
            participant_id=author.id,
            account_id=writer.id,
            kind=SupporterKind.REPRESENTATIVE,
            may_read=False,
            may_write=True,
            may_receive_notices=False,
            display_name=b"sealed",
            invited_by_id=facilitator.id,
            joined_at=utcnow(),
        )
        db.add(place)
        db.flush()
        message = rows.message(db, author, recipient, MessageState.SUBMITTED)
        message.written_by_supporter_id = place.id
        assert author.account is not None
        author.verified_public_key = author.account.public_key
        scene = Scene(case.id, message.id, facilitator.id, author.account.id)
        db.commit()
    return scene


def grant_it(db: Session, settings: Settings, scene: Scene) -> None:
    regrant_current_version(
        db,
        settings,
        case_id=scene.case_id,
        facilitator_id=scene.facilitator_id,
        account_id=scene.participant_account_id,
        message_id=scene.message_id,
    )


def withdraw(db: Session, settings: Settings, scene: Scene) -> None:
    participant = db.get(Account, scene.participant_account_id)
    message = db.get(Message, scene.message_id)
    assert participant is not None
    assert message is not None
    services.withdraw_letter(db, settings, participant, message)


def _grants(engine: Engine, scene: Scene) -> list[ContentGrant]:
    with make_session_factory(engine)() as db:
        return list(
            db.scalars(
                select(ContentGrant).where(
                    ContentGrant.recipient_account_id == scene.participant_account_id
                )
            )
        )


@pytest.mark.parametrize(("first", "second"), [(withdraw, grant_it), (grant_it, withdraw)])
def test_a_letter_withdrawn_while_it_is_granted_gets_no_grant_after(
    pg_engine: Engine, pg_settings: Settings, first: Change, second: Change
) -> None:
    scene = _scene(pg_engine)
    error = second_waits_for_first(
        make_session_factory(pg_engine),
        pg_engine,
        lambda db: first(db, pg_settings, scene),
        lambda db: second(db, pg_settings, scene),
    )
    with make_session_factory(pg_engine)() as db:
        message = db.get(Message, scene.message_id)
        assert message is not None
        assert message.state is MessageState.WITHDRAWN
        author = db.scalars(
            select(Participant).where(Participant.account_id == scene.participant_account_id)
        ).one()
        assert author.withdrawn_at is None
    if second is grant_it:
        assert isinstance(error, Conflict), repr(error)
        assert _grants(pg_engine, scene) == []
    else:
        assert error is None
        assert len(_grants(pg_engine, scene)) == 1
