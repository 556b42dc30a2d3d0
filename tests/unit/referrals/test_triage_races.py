"""Two holders triaging one referral at once, on PostgreSQL, in real concurrent transactions
(portal/referrals/triage.py: each move locks the referral's row; SQLite lets one writer in at a
time). The second waits for the first to commit, then the state machine refuses it: exactly
one decision is kept and audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account
from portal.audit.models import AuditEvent
from portal.db import make_session_factory, utcnow
from portal.errors import Conflict
from portal.referrals import triage
from portal.referrals.models import Channel, Referral, Source
from portal.referrals.services import current_key
from portal.referrals.states import DeclineReason, ReferralState
from portal.settings import Settings
from tests.support.locks import second_waits_for_first
from tests.unit.referrals.test_races import Scene, _scene, _set_up

FORM: dict[str, object] = {"form": "agency"}


def _referral(engine: Engine, settings: Settings, scene: Scene) -> str:
    with make_session_factory(engine)() as db:
        _set_up(db, settings, scene.root)
        db.flush()
        key = current_key(db)
        assert key is not None
        referral = Referral(
            reference="R-RACE-0001",
            channel=Channel.AGENCY,
            source=Source.POLICE,
            key_id=key.id,
            ciphertext=protocol.seal_referral(key.public_key, key.id, FORM),
            received_at=utcnow(),
        )
        db.add(referral)
        db.commit()
        return referral.id


def _accept(settings: Settings, scene: Scene, referral_id: str) -> Callable[[Session], None]:
    def run(db: Session) -> None:
        me = db.get(Account, scene.root.account.id)
        facilitator = db.get(Account, scene.facilitator_id)
        referral = db.get(Referral, referral_id)
        assert me is not None
        assert facilitator is not None
        assert referral is not None
        share = protocol.make_referral_share(
            scene.root.secret_key, facilitator.public_key, referral_id, FORM
        )
        triage.accept(db, settings, me, referral, facilitator.id, share)

    return run


def _decline(settings: Settings, scene: Scene, referral_id: str) -> Callable[[Session], None]:
    def run(db: Session) -> None:
        me = db.get(Account, scene.manager.account.id)
        referral = db.get(Referral, referral_id)
        assert me is not None
        assert referral is not None
        triage.decline(db, settings, me, referral, DeclineReason.DUPLICATE, None)

    return run


@pytest.mark.parametrize("first", ["accept", "decline"])
def test_two_holders_deciding_one_referral_at_once_make_one_decision(
    pg_engine: Engine, pg_settings: Settings, first: str
) -> None:
    scene = _scene(pg_engine, pg_settings)
    referral_id = _referral(pg_engine, pg_settings, scene)
    moves = [_accept(pg_settings, scene, referral_id), _decline(pg_settings, scene, referral_id)]
    if first == "decline":
        moves.reverse()
    refused = second_waits_for_first(make_session_factory(pg_engine), pg_engine, *moves)
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(pg_engine)() as db:
        referral = db.get(Referral, referral_id)
        assert referral is not None
        if first == "accept":
            assert referral.state is ReferralState.ACCEPTED
            assert referral.decline_reason is None
        else:
            assert referral.state is ReferralState.DECLINED
            assert referral.share is None
        decisions = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.subject_id == referral_id,
                AuditEvent.tag.in_(["referral:accepted", "referral:declined"]),
            )
        )
        assert decisions == 1
