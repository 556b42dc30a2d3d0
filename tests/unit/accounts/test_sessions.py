"""Resolving and removing sessions, on rows in a transaction rolled back after each test."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from portal.accounts import sessions
from portal.accounts.models import Account, Role, SignInSession
from portal.db import ReadTransaction, lock_row, make_engine, upgrade, utcnow
from portal.settings import Settings
from tests import rows
from tests.support.env import portal_env

# A fresh interpreter that resolves a session before any ORM query has run, as a new worker
# does when its first request is signed in.
FIRST_THING_A_WORKER_DOES = """
import os, sys
from sqlalchemy.orm import Session
import portal.models
from portal.accounts import sessions
from portal.db import make_engine
from portal.settings import Settings
settings = Settings.from_env(dict(os.environ))
with Session(make_engine(settings.database_url)) as db:
    current = sessions.resolve(db, settings, sys.argv[1], touch=False).current
    print(current.account.id if current else "signed out")
"""


def test_resolved_account_is_in_the_session_as_if_loaded_there(
    db_session: Session, settings: Settings
) -> None:
    owner = rows.account(db_session, Role.FACILITATOR)
    started = sessions.start(db_session, settings, owner, "Mozilla/5.0 (X11; Linux) Chrome/120")
    db_session.flush()
    db_session.expunge_all()  # as in a request's new session: the account is not there yet

    current = sessions.resolve(db_session, settings, started.token, touch=False).current

    assert current is not None
    account = current.account
    assert (account.id, account.role, account.sign_in_name) == (
        owner.id,
        owner.role,
        owner.sign_in_name,
    )
    assert account.public_key == owner.public_key
    # Unchanged and known by its id: a handler may find it again, lock it and change it.
    assert account in db_session
    assert not db_session.dirty
    assert db_session.get(Account, owner.id) is account
    lock_row(db_session, account)
    account.sign_in_name = "renamed"
    db_session.flush()
    assert db_session.scalar(select(Account.sign_in_name).where(Account.id == owner.id)) == (
        "renamed"
    )


def test_resolving_again_in_one_session_gives_the_same_account(
    db_session: Session, settings: Settings
) -> None:
    owner = rows.account(db_session)
    started = sessions.start(db_session, settings, owner, "Mozilla/5.0 (X11; Linux) Chrome/120")
    db_session.flush()

    first = sessions.resolve(db_session, settings, started.token, touch=False).current
    again = sessions.resolve(db_session, settings, started.token, touch=False).current

    assert first is not None
    assert again is not None
    assert first.account is again.account is owner


def _signed_in(engine: Engine, settings: Settings, *, idle_minutes: int = 0) -> tuple[str, str]:
    """A committed account and session (last seen ``idle_minutes`` ago): their ids and token."""
    with Session(engine) as db:
        owner = rows.account(db, Role.FACILITATOR)
        started = sessions.start(db, settings, owner, "Mozilla/5.0 (X11; Linux) Chrome/120")
        started.row.last_seen_at = utcnow() - timedelta(minutes=idle_minutes)
        db.commit()
        return owner.id, started.token


def test_a_reading_request_resolves_the_same_session_and_account_on_the_driver(
    db_engine: Engine, read_engine: Engine, settings: Settings
) -> None:
    owner_id, token = _signed_in(db_engine, settings)
    with Session(db_engine) as db:
        through_orm = sessions.resolve(db, settings, token, touch=False).current
        assert through_orm is not None
        expected = {
            column.key: getattr(through_orm.account, column.key)
            for column in Account.__mapper__.column_attrs
        }

    with ReadTransaction(read_engine) as transaction:
        current = sessions.resolve_reading(transaction, settings, token, touch=False).current

        assert current is not None
        account = current.account
        # Every column converted as the ORM converts it (UTC datetimes, the role, bytes).
        assert {
            column.key: getattr(account, column.key) for column in Account.__mapper__.column_attrs
        } == expected
        assert account.created_at.tzinfo is not None
        assert isinstance(account.role, Role)
        assert (current.session_id, current.session_key, current.idle_seconds) == (
            through_orm.session_id,
            through_orm.session_key,
            through_orm.idle_seconds,
        )
        # In no ORM session until the handler opens one; then there as if loaded there.
        assert inspect(account).session is None
        db = transaction.session(lambda opened: sessions.attach(opened, account))
        assert account in db
        assert not db.dirty
        assert db.get(Account, owner_id) is account
        transaction.commit()


def test_a_reading_request_finds_an_idle_session_ended_as_a_writing_one_does(
    db_engine: Engine, read_engine: Engine, settings: Settings
) -> None:
    _owner_id, token = _signed_in(
        db_engine, settings, idle_minutes=settings.session_idle_staff_minutes + 1
    )
    with ReadTransaction(read_engine) as transaction:
        reading = sessions.resolve_reading(transaction, settings, token, touch=True)
        unknown = sessions.resolve_reading(transaction, settings, "unknown", touch=False)
    with Session(db_engine) as db:
        writing = sessions.resolve(db, settings, token, touch=True)

    assert reading.current is None
    assert (reading.session_id, reading.end_reason) == (writing.session_id, writing.end_reason)
    assert reading.end_reason == sessions.EndReason.IDLE
    assert unknown.current is None


def test_sessions_that_ended_or_expired_long_ago_are_removed(db_session: Session) -> None:
    owner = rows.account(db_session)
    now = utcnow()
    day = timedelta(days=1)
    ended_long_ago = rows.sign_in_session(
        db_session, owner, started=now - 3 * day, ended_at=now - 2 * day
    )
    expired_long_ago = rows.sign_in_session(
        db_session, owner, started=now - 3 * day, expires_at=now - 2 * day
    )
    ended_lately = rows.sign_in_session(db_session, owner, ended_at=now - timedelta(hours=1))
    active = rows.sign_in_session(db_session, owner)

    removed = sessions.delete_finished(db_session, before=now - day, limit=10)

    assert removed == 2
    left = set(db_session.scalars(select(SignInSession.id)))
    assert left == {ended_lately.id, active.id}
    assert left.isdisjoint({ended_long_ago.id, expired_long_ago.id})


def test_a_fresh_process_resolves_a_session_before_any_orm_query(tmp_path: Path) -> None:
    env = portal_env(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        base_url="http://127.0.0.1",
    )
    upgrade(env["PORTAL_DATABASE_URL"])
    settings = Settings.from_env(env)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as db:
            owner = rows.account(db)
            token = sessions.start(db, settings, owner, "Mozilla/5.0 (X11; Linux)").token
            db.commit()
            owner_id = owner.id
    finally:
        engine.dispose()

    found = subprocess.run(
        [sys.executable, "-c", FIRST_THING_A_WORKER_DOES, token],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.strip() == owner_id
