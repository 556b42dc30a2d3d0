"""Two state changes of one message at once, on PostgreSQL, in real concurrent transactions.

SQLite lets one writer in at a time (BEGIN IMMEDIATE), so these races only exist on PostgreSQL,
the production database. Each test holds the first change's transaction open at the point where
it has decided, starts the second in another thread, waits until PostgreSQL reports it waiting
for a lock, then commits the first: exactly one wins, the other is refused and changes nothing.
The invariants are checked on what was committed:
- the timeline is a path through the state machine, and ends in the message's state;
- a stopped message (withdrawn, withheld, declined) holds no recipient grant at all.
A last test lets the two run freely many times, started together.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal import wire
from portal.accounts.models import Account, Role
from portal.cases.models import CaseFacilitator, HighRisk, Participant, Side
from portal.content.models import ContentGrant, GrantPurpose
from portal.db import make_session_factory, utcnow
from portal.errors import Conflict
from portal.messages import services
from portal.messages.models import Message, MessageEvent
from portal.messages.states import STOPPED_FOR_GOOD, TRANSITIONS, MessageState
from portal.settings import Settings
from tests import rows
from tests.support.locks import someone_waits_for_a_lock

S = MessageState
GRANT = bytes(range(256))[: wire.CONTENT_GRANT]
Change = Callable[[Session, Settings, "Scene"], None]


@dataclass(frozen=True)
class Scene:
    message_id: str
    facilitator_id: str
    colleague_id: str  # a second facilitator of the same case
    author_account_id: str
    recipient_account_id: str
    recipient_participant_id: str


def _scene(engine: Engine, state: MessageState) -> Scene:
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        facilitator = rows.facilitator_of(case)
        author = rows.participant(db, case, Side.PERSON_RESPONSIBLE)
        recipient = rows.participant(db, case, Side.PERSON_HARMED)
        colleague = rows.account(db, Role.FACILITATOR)
        db.add(CaseFacilitator(case_id=case.id, account_id=colleague.id))
        claimed = facilitator if state is S.IN_REVIEW else None
        message = rows.message(db, author, recipient, state, claimed_by=claimed)
        assert author.account_id is not None
        assert recipient.account_id is not None
        scene = Scene(
            message.id,
            facilitator.id,
            colleague.id,
            author.account_id,
            recipient.account_id,
            recipient.id,
        )
        db.commit()
    return scene


def _message(db: Session, scene: Scene) -> Message:
    found = db.get(Message, scene.message_id)
    assert found is not None
    return found


def _account(db: Session, account_id: str) -> Account:
    found = db.get(Account, account_id)
    assert found is not None
    return found


# -- the changes that race --------------------------------------------------------------------


def approve(db: Session, settings: Settings, scene: Scene) -> None:
    facilitator = _account(db, scene.facilitator_id)
    services.approve(db, settings, facilitator, _message(db, scene), GRANT, None)


def withdraw(db: Session, settings: Settings, scene: Scene) -> None:
    author = _account(db, scene.author_account_id)
    services.withdraw_letter(db, settings, author, _message(db, scene))


def claim(db: Session, settings: Settings, scene: Scene) -> None:
    services.claim(db, settings, _account(db, scene.colleague_id), _message(db, scene))


def claim_as_first(db: Session, settings: Settings, scene: Scene) -> None:
    services.claim(db, settings, _account(db, scene.facilitator_id), _message(db, scene))


def recipient_holds(db: Session, settings: Settings, scene: Scene) -> None:
    recipient = _account(db, scene.recipient_account_id)
    services.recipient_holds(db, settings, recipient, _message(db, scene))


def recipient_opens(db: Session, settings: Settings, scene: Scene) -> None:
    recipient = _account(db, scene.recipient_account_id)
    services.recipient_opens(db, settings, recipient, _message(db, scene), author_may_see=False)


def recipient_withdraws(db: Session, settings: Settings, scene: Scene) -> None:
    recipient = _account(db, scene.recipient_account_id)
    participant = db.get(Participant, scene.recipient_participant_id)
    assert participant is not None
    services.participant_withdraws(db, settings, recipient, participant)


# -- running two at the exact point -----------------------------------------------------------


def _race(
    engine: Engine, settings: Settings, scene: Scene, first: Change, second: Change
) -> tuple[BaseException | None, BaseException | None]:
    """``first`` decides and holds its transaction; ``second`` starts and must wait for it."""
    sessions = make_session_factory(engine)
    outcome: list[BaseException | None] = [None]

    def run_second() -> None:
        with sessions() as db:
            try:
                second(db, settings, scene)
                db.commit()
            except BaseException as error:  # noqa: BLE001  (reported to the test below)
                db.rollback()
                outcome[0] = error

    first_error: BaseException | None = None
    with sessions() as db:
        try:
            first(db, settings, scene)
            db.flush()
        except Conflict as error:
            first_error = error
        thread = threading.Thread(target=run_second)
        thread.start()
        deadline = time.monotonic() + 10
        # The second change must be made to wait for the first: that is the whole point.
        while not someone_waits_for_a_lock(engine):
            assert thread.is_alive() or outcome[0] is not None, "the second change did not wait"
            assert time.monotonic() < deadline, "the second change never waited for the first"
            time.sleep(0.02)
        if first_error is None:
            db.commit()
        else:
            db.rollback()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return first_error, outcome[0]


def _check_invariants(engine: Engine, scene: Scene) -> MessageState:
    with make_session_factory(engine)() as db:
        message = _message(db, scene)
        timeline = [
            e.state
            for e in db.scalars(
                select(MessageEvent)
                .where(MessageEvent.message_id == scene.message_id)
                .order_by(MessageEvent.id)
            )
        ]
        for before, after in itertools.pairwise(timeline):
            allowed = {
                target for (state, _action), target in TRANSITIONS.items() if state is before
            }
            assert after in allowed, timeline
        assert timeline[-1] is message.state, timeline
        if message.state in STOPPED_FOR_GOOD:
            released = db.scalars(
                select(ContentGrant).where(
                    ContentGrant.object_id == message.object_id,
                    ContentGrant.purpose == GrantPurpose.RECIPIENT,
                )
            ).all()
            assert released == [], message.state
        state: MessageState = message.state
        return state


@pytest.mark.parametrize(
    ("start", "first", "second", "ends"),
    [
        # The case: an author withdraws while the facilitator approves.
        (S.IN_REVIEW, approve, withdraw, S.WITHDRAWN),
        (S.IN_REVIEW, withdraw, approve, S.WITHDRAWN),
        # Two facilitators claim at once: one reviews, the other is told.
        (S.SUBMITTED, claim_as_first, claim, S.IN_REVIEW),
        # The recipient's choice against the author's withdrawal.
        (S.AWAITING_RECIPIENT, recipient_holds, withdraw, S.WITHDRAWN),
        (S.AWAITING_RECIPIENT, withdraw, recipient_opens, S.WITHDRAWN),
        (S.AWAITING_RECIPIENT, recipient_opens, withdraw, S.OPENED),
        # The recipient withdraws from the process while their letter is approved.
        (S.IN_REVIEW, approve, recipient_withdraws, S.HELD),
        (S.IN_REVIEW, recipient_withdraws, approve, S.IN_REVIEW),
    ],
)
def test_one_change_wins_and_the_other_changes_nothing(
    pg_engine: Engine,
    pg_settings: Settings,
    start: MessageState,
    first: Change,
    second: Change,
    ends: MessageState,
) -> None:
    scene = _scene(pg_engine, start)
    first_error, second_error = _race(pg_engine, pg_settings, scene, first, second)
    assert first_error is None
    assert second_error is None or isinstance(second_error, Conflict), repr(second_error)
    assert _check_invariants(pg_engine, scene) is ends


def test_approve_and_withdraw_started_together_many_times(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    sessions = make_session_factory(pg_engine)
    outcomes: set[MessageState] = set()
    for _ in range(25):
        scene = _scene(pg_engine, S.IN_REVIEW)
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(
            change: Change,
            scene: Scene = scene,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            with sessions() as db:
                start.wait()
                try:
                    change(db, pg_settings, scene)
                    db.commit()
                except Conflict:
                    db.rollback()
                except BaseException as error:  # noqa: BLE001  (anything else fails the test)
                    errors.append(error)

        threads = [threading.Thread(target=run, args=(c,)) for c in (approve, withdraw)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        outcomes.add(_check_invariants(pg_engine, scene))
    assert outcomes <= {S.WITHDRAWN}


# -- two-person approval: two facilitators giving the second approval at once ---------------


@dataclass(frozen=True)
class SecondApproval:
    scene: Scene
    third_id: str  # a third facilitator of the case, racing the colleague


def _approved_once(engine: Engine) -> SecondApproval:
    """A high-risk case's message approved once by the first facilitator; two others may give
    the second approval."""
    scene = _scene(engine, S.IN_REVIEW)
    with make_session_factory(engine)() as db:
        message = _message(db, scene)
        message.case.high_risk = HighRisk.SEXUAL_HARM
        message.state = S.APPROVED_ONCE
        message.claimed_by_id = None
        message.first_approved_by_id = scene.facilitator_id
        message.first_approved_at = utcnow()
        db.add(MessageEvent(message_id=message.id, state=S.APPROVED_ONCE, version=1))
        third = rows.account(db, Role.FACILITATOR)
        db.add(CaseFacilitator(case_id=message.case_id, account_id=third.id))
        db.commit()
        return SecondApproval(scene, third.id)


def _second_approval_by(account_id: str) -> Change:
    def second_approval(db: Session, settings: Settings, scene: Scene) -> None:
        services.approve(db, settings, _account(db, account_id), _message(db, scene), GRANT, None)

    return second_approval


def _recipient_grants(engine: Engine, scene: Scene) -> list[ContentGrant]:
    with make_session_factory(engine)() as db:
        message = _message(db, scene)
        return list(
            db.scalars(
                select(ContentGrant).where(
                    ContentGrant.object_id == message.object_id,
                    ContentGrant.purpose == GrantPurpose.RECIPIENT,
                )
            )
        )


def test_two_facilitators_giving_the_second_approval_at_once_make_exactly_one(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    setting = _approved_once(pg_engine)
    scene = setting.scene
    first_error, second_error = _race(
        pg_engine,
        pg_settings,
        scene,
        _second_approval_by(scene.colleague_id),
        _second_approval_by(setting.third_id),
    )
    assert first_error is None
    assert isinstance(second_error, Conflict), repr(second_error)
    assert _check_invariants(pg_engine, scene) is S.AWAITING_RECIPIENT
    # Exactly one grant for the recipient: the one the winner's browser made.
    assert [g.sender_id for g in _recipient_grants(pg_engine, scene)] == [scene.colleague_id]
    with make_session_factory(pg_engine)() as db:
        events = db.scalars(
            select(MessageEvent.state).where(MessageEvent.message_id == scene.message_id)
        ).all()
        assert list(events).count(S.AWAITING_RECIPIENT) == 1


def test_a_second_approval_racing_a_withdrawal_releases_nothing_once_withdrawn(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    scene = _approved_once(pg_engine).scene
    _race(pg_engine, pg_settings, scene, withdraw, _second_approval_by(scene.colleague_id))
    assert _check_invariants(pg_engine, scene) is S.WITHDRAWN
    assert _recipient_grants(pg_engine, scene) == []
