"""Referral key changes at once, on PostgreSQL, in real concurrent transactions
(portal/referrals/services.py: setting up takes the service root's row, giving and removing
access take the colleague's account row; SQLite lets one writer in at a time).

- Two service managers set up referrals at once: the second waits, then is refused; one key.
- Two managers remove one facilitator's designation at once: the second waits, then is told it
  is gone; the grant is deleted and the removal audited once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.browser_steps import BrowserPerson
from portal.db import make_session_factory, utcnow
from portal.errors import Conflict, NotFound
from portal.referrals import services
from portal.referrals.models import ReferralKey, ReferralKeyGrant, ReferralReader
from portal.settings import Settings
from portal.trust import services as trust
from portal.trust.statements import SignedStatement, protocol_time
from tests.support.locks import second_waits_for_first
from tests.unit.trust.test_services import cert, keyed

b64 = protocol.b64encode


@dataclass(frozen=True)
class Scene:
    root: BrowserPerson
    manager: BrowserPerson
    facilitator_id: str


def _scene(engine: Engine, settings: Settings) -> Scene:
    with make_session_factory(engine)() as db:
        root = keyed(db, Role.SERVICE_MANAGER)
        trust.establish_root(db, settings, root.account, cert(root, root.account), field="x")
        manager = keyed(db, Role.SERVICE_MANAGER)
        trust.certify(db, settings, root.account, cert(root, manager.account))
        facilitator = keyed(db, Role.FACILITATOR)
        trust.certify(db, settings, root.account, cert(root, facilitator.account))
        db.commit()
        return Scene(root, manager, facilitator.account.id)


def _set_up(db: Session, settings: Settings, person: BrowserPerson) -> None:
    secret, public = protocol.generate_identity()
    key_id = str(uuid.uuid4())
    me = db.get(Account, person.account.id)
    assert me is not None
    fields: dict[str, object] = {
        "key_id": key_id,
        "referral_public_key": b64(public),
        "issued_at": protocol_time(utcnow()),
        "issuer_account_id": me.id,
    }
    signed = SignedStatement(*protocol.sign_referral_key(person.signing_secret, fields))
    grant = protocol.make_referral_key_grant(person.secret_key, me.public_key, key_id, secret)
    services.create_key(
        db, settings, me, key_id=key_id, public_key=public, signed=signed, grant=grant
    )


def test_two_managers_setting_up_at_once_make_one_key(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    scene = _scene(pg_engine, pg_settings)
    refused = second_waits_for_first(
        make_session_factory(pg_engine),
        pg_engine,
        lambda db: _set_up(db, pg_settings, scene.root),
        lambda db: _set_up(db, pg_settings, scene.manager),
    )
    assert isinstance(refused, Conflict), repr(refused)
    with make_session_factory(pg_engine)() as db:
        assert db.scalar(select(func.count()).select_from(ReferralKey)) == 1


def test_two_removals_of_one_designation_at_once_remove_it_once(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    scene = _scene(pg_engine, pg_settings)
    with make_session_factory(pg_engine)() as db:
        _set_up(db, pg_settings, scene.root)
        root = db.get(Account, scene.root.account.id)
        assert root is not None
        grant = bytes(services.GRANT_BYTES)
        services.give_access(db, pg_settings, root, scene.facilitator_id, grant)
        db.commit()

    def remove(by: BrowserPerson) -> Callable[[Session], None]:
        def run(db: Session) -> None:
            manager = db.get(Account, by.account.id)
            assert manager is not None
            services.remove_reader(db, pg_settings, manager, scene.facilitator_id)

        return run

    refused = second_waits_for_first(
        make_session_factory(pg_engine), pg_engine, remove(scene.root), remove(scene.manager)
    )
    assert isinstance(refused, NotFound), repr(refused)
    with make_session_factory(pg_engine)() as db:
        assert db.get(ReferralReader, scene.facilitator_id) is None
        grants = db.scalar(
            select(func.count())
            .select_from(ReferralKeyGrant)
            .where(ReferralKeyGrant.account_id == scene.facilitator_id)
        )
        assert grants == 0
        events = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tag == "referral:reader-removed")
        )
        assert events == 1
