"""Trust rules on rolled-back rows (portal/trust/services.py): the root, certifying, revoking,
who waits for a certificate; and, on PostgreSQL, certifications racing for the log."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account, Role
from portal.browser_steps import BrowserPerson, staff_cert
from portal.db import make_session_factory, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.settings import Settings
from portal.trust import services
from portal.trust.models import EntryKind, TrustLogEntry
from portal.trust.statements import SignedStatement, protocol_time
from tests import rows

b64 = protocol.b64encode


def keyed(db: Session, role: Role, *, signing: bool = True) -> BrowserPerson:
    """An account with a real key pair (and its signing key registered, unless not)."""
    account = rows.account(db, role)
    secret_key, public_key = protocol.generate_identity()
    account.public_key = public_key
    if signing:
        account.signing_public_key = protocol.signing_public_key_from_secret(secret_key)
    db.flush()
    return BrowserPerson(account, "unused", secret_key, b"\x00" * 32)


def cert(issuer: BrowserPerson, subject: Account, **changed: object) -> SignedStatement:
    if not changed:
        return staff_cert(issuer.account.id, issuer.signing_secret, subject)
    fields: dict[str, object] = {
        "account_id": subject.id,
        "role": subject.role.value,
        "box_public_key": b64(subject.public_key),
        "signing_public_key": b64(subject.signing_public_key or bytes(32)),
        "issued_at": protocol_time(utcnow()),
        "issuer_account_id": issuer.account.id,
        **changed,
    }
    return SignedStatement(*protocol.sign_staff_cert(issuer.signing_secret, fields))


def revocation(issuer: BrowserPerson, subject: Account) -> SignedStatement:
    fields: dict[str, object] = {
        "account_id": subject.id,
        "revoked_at": protocol_time(utcnow()),
        "issuer_account_id": issuer.account.id,
        "reason": "disabled",
    }
    return SignedStatement(*protocol.sign_revocation(issuer.signing_secret, fields))


def rooted(db: Session, settings: Settings) -> BrowserPerson:
    root = keyed(db, Role.SERVICE_MANAGER)
    services.establish_root(db, settings, root.account, cert(root, root.account), field="x")
    return root


def entries(db: Session) -> list[tuple[bytes, bytes, bytes]]:
    return [
        (e.signer_signing_public_key, e.statement, e.signature) for e in services.log_entries(db)
    ]


# -- the root -------------------------------------------------------------------------------


def test_the_root_is_entry_0_and_there_is_only_one(db_session: Session, settings: Settings) -> None:
    root = rooted(db_session, settings)
    found = services.service_root(db_session)
    assert found is not None
    assert (found.account_id, found.log_position) == (root.account.id, 0)
    assert services.may_sign_for_the_service(db_session, root.account)
    other = keyed(db_session, Role.SERVICE_MANAGER)
    with pytest.raises(Conflict):
        services.establish_root(
            db_session, settings, other.account, cert(other, other.account), field="x"
        )


def test_the_root_certifies_itself_only_with_its_own_keys_and_role(
    db_session: Session, settings: Settings
) -> None:
    manager = keyed(db_session, Role.SERVICE_MANAGER)
    facilitator = keyed(db_session, Role.FACILITATOR)
    stranger = keyed(db_session, Role.SERVICE_MANAGER)
    refused = [
        (manager.account, cert(stranger, manager.account)),  # another key signed it
        (manager.account, cert(manager, manager.account, role="facilitator")),
        (manager.account, cert(manager, manager.account, issuer_account_id=stranger.account.id)),
        (manager.account, cert(manager, stranger.account)),  # names someone else
    ]
    for account, signed in refused:
        with pytest.raises(BadInput):
            services.establish_root(db_session, settings, account, signed, field="x")
    with pytest.raises(Conflict):  # a facilitator is never the root
        services.establish_root(
            db_session,
            settings,
            facilitator.account,
            cert(facilitator, facilitator.account),
            field="x",
        )
    assert services.service_root(db_session) is None
    assert services.log_entries(db_session) == []


# -- certifying -----------------------------------------------------------------------------


def test_certificates_form_a_log_browsers_can_verify(
    db_session: Session, settings: Settings
) -> None:
    root = rooted(db_session, settings)
    manager = keyed(db_session, Role.SERVICE_MANAGER)
    services.certify(db_session, settings, root.account, cert(root, manager.account))
    facilitator = keyed(db_session, Role.FACILITATOR)
    services.certify(db_session, settings, manager.account, cert(manager, facilitator.account))

    log = entries(db_session)
    assert [e.position for e in services.log_entries(db_session)] == [0, 1, 2]
    count, head = protocol.trust_log_head(log)
    assert count == 3
    assert protocol.verify_trust_log_extends(1, protocol.trust_log_head(log[:1])[1], log) == head
    assert services.certified_ids(
        db_session, [root.account.id, manager.account.id, facilitator.account.id]
    ) == {root.account.id, manager.account.id, facilitator.account.id}


def test_certify_refuses_what_does_not_fit(db_session: Session, settings: Settings) -> None:
    root = rooted(db_session, settings)
    facilitator = keyed(db_session, Role.FACILITATOR)
    other = keyed(db_session, Role.FACILITATOR)
    participant = keyed(db_session, Role.PARTICIPANT)
    no_key = keyed(db_session, Role.FACILITATOR, signing=False)
    uncertified = keyed(db_session, Role.SERVICE_MANAGER)
    cases: list[tuple[BrowserPerson, SignedStatement, type[Exception]]] = [
        (root, cert(other, facilitator.account), BadInput),  # not the root's signature
        (root, cert(root, facilitator.account, role="service_manager"), BadInput),
        (root, cert(root, facilitator.account, box_public_key=b64(other.public_key)), BadInput),
        (
            root,
            cert(root, facilitator.account, signing_public_key=b64(other.account.public_key)),
            BadInput,
        ),
        (root, cert(root, facilitator.account, issuer_account_id=other.account.id), BadInput),
        (root, revocation(root, facilitator.account), BadInput),  # another kind
        (root, cert(root, participant.account, role="facilitator"), NotFound),  # not staff
        (root, cert(root, no_key.account, signing_public_key=b64(bytes(32))), Conflict),
        (uncertified, cert(uncertified, facilitator.account), Conflict),
        (facilitator, cert(facilitator, other.account), Conflict),  # not a service manager
    ]
    for signer, signed, error in cases:
        with pytest.raises(error):
            services.certify(db_session, settings, signer.account, signed)
    assert len(services.log_entries(db_session)) == 1


def test_a_certificate_is_appended_once(db_session: Session, settings: Settings) -> None:
    root = rooted(db_session, settings)
    facilitator = keyed(db_session, Role.FACILITATOR)
    signed = cert(root, facilitator.account)
    services.certify(db_session, settings, root.account, signed)
    with pytest.raises(Conflict):
        services.certify(db_session, settings, root.account, signed)
    with pytest.raises(Conflict):  # nor a fresh one for the same account
        services.certify(db_session, settings, root.account, cert(root, facilitator.account))


def test_who_waits_for_a_certificate(db_session: Session, settings: Settings) -> None:
    root = rooted(db_session, settings)
    waiting = keyed(db_session, Role.FACILITATOR)
    certified = keyed(db_session, Role.FACILITATOR)
    services.certify(db_session, settings, root.account, cert(root, certified.account))
    keyed(db_session, Role.FACILITATOR, signing=False)  # has not signed in since
    keyed(db_session, Role.PARTICIPANT)
    closed = keyed(db_session, Role.SERVICE_MANAGER)
    closed.account.disabled_at = utcnow()
    db_session.flush()
    assert [a.id for a in services.awaiting_certification(db_session)] == [waiting.account.id]


# -- revoking -------------------------------------------------------------------------------


def test_closing_with_a_revocation_revokes(db_session: Session, settings: Settings) -> None:
    root = rooted(db_session, settings)
    manager = keyed(db_session, Role.SERVICE_MANAGER)
    services.certify(db_session, settings, root.account, cert(root, manager.account))

    closed = services.close_staff_account(
        db_session, settings, root.account, manager.account.id, revocation(root, manager.account)
    )

    assert closed.disabled_at is not None
    assert services.is_revoked(db_session, manager.account.id)
    assert not services.may_sign_for_the_service(db_session, manager.account)
    last = services.log_entries(db_session)[-1]
    assert (last.kind, last.subject_account_id) == (EntryKind.REVOCATION, manager.account.id)
    with pytest.raises(Conflict):  # once
        services.revoke(
            db_session, settings, root.account, manager.account, revocation(root, manager.account)
        )


def test_revocations_that_do_not_fit_are_refused(db_session: Session, settings: Settings) -> None:
    root = rooted(db_session, settings)
    manager = keyed(db_session, Role.SERVICE_MANAGER)
    services.certify(db_session, settings, root.account, cert(root, manager.account))
    facilitator = keyed(db_session, Role.FACILITATOR)
    services.certify(db_session, settings, root.account, cert(root, facilitator.account))
    never = keyed(db_session, Role.FACILITATOR)
    uncertified = keyed(db_session, Role.SERVICE_MANAGER)
    cases: list[tuple[BrowserPerson, Account, SignedStatement, type[Exception]]] = [
        (root, facilitator.account, revocation(manager, facilitator.account), BadInput),
        (root, facilitator.account, revocation(root, never.account), BadInput),
        (root, facilitator.account, cert(root, facilitator.account), BadInput),
        (uncertified, facilitator.account, revocation(uncertified, facilitator.account), Conflict),
        (root, never.account, revocation(root, never.account), Conflict),
        (manager, root.account, revocation(manager, root.account), Conflict),  # the root
    ]
    for signer, subject, signed, error in cases:
        with pytest.raises(error):
            services.revoke(db_session, settings, signer.account, subject, signed)
    assert len(services.log_entries(db_session)) == 3


# -- races on PostgreSQL --------------------------------------------------------------------


def test_certifications_at_once_get_one_position_each(
    pg_engine: Engine, pg_settings: Settings
) -> None:
    sessions = make_session_factory(pg_engine)
    with sessions() as db:
        root = rooted(db, pg_settings)
        waiting = [keyed(db, Role.FACILITATOR) for _ in range(6)]
        # The same account twice, too: exactly one of those two may win.
        statements = [cert(root, w.account) for w in waiting]
        statements.append(cert(root, waiting[0].account))
        root_id = root.account.id
        db.commit()
    start = threading.Barrier(len(statements))
    outcomes: list[str] = []

    def certify(signed: SignedStatement) -> None:
        with sessions() as db:
            manager = db.get(Account, root_id)
            assert manager is not None
            start.wait()
            try:
                services.certify(db, pg_settings, manager, signed)
                db.commit()
                outcomes.append("ok")
            except Conflict:
                db.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=certify, args=(s,)) for s in statements]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["conflict"] + ["ok"] * 6
    with sessions() as db:
        log = list(db.scalars(select(TrustLogEntry).order_by(TrustLogEntry.position)))
        assert [e.position for e in log] == list(range(7))
        assert len({e.subject_account_id for e in log}) == 7
        protocol.verify_trust_log_extends(0, bytes(32), entries(db))
