"""Pruning sign-in failures, on rows in a transaction rolled back after each test."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import throttle
from portal.accounts.models import SignInFailure
from portal.db import utcnow
from portal.settings import Settings
from tests import rows


def test_pruning_removes_failures_older_than_the_window_and_keeps_recent_ones(
    db_session: Session, settings: Settings
) -> None:
    now = utcnow()
    window = timedelta(minutes=settings.signin_window_minutes)
    old = [rows.sign_in_failure(db_session, now - window - timedelta(minutes=m)) for m in (1, 60)]
    recent = rows.sign_in_failure(db_session, now - window + timedelta(minutes=1))

    assert throttle.prune(db_session, settings, limit=1) == 1  # one batch at a time
    assert throttle.prune(db_session, settings, limit=10) == 1
    assert throttle.prune(db_session, settings, limit=10) == 0

    kept = set(db_session.scalars(select(SignInFailure.id)))
    assert recent.id in kept
    assert kept.isdisjoint(f.id for f in old)
