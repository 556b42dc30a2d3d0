"""Removing finished sessions, on rows in a transaction rolled back after each test."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import sessions
from portal.accounts.models import SignInSession
from portal.db import utcnow
from tests import rows


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
