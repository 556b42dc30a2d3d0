"""Invitation rules: codes, and removing finished invitations (on rolled-back rows)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role
from portal.db import utcnow
from portal.invitations.models import Invitation
from portal.invitations.services import delete_finished, normalize_code
from tests import rows


def test_codes_forgive_case_dashes_and_lookalikes() -> None:
    assert normalize_code("abcd-efgh ijkl-mnop") == normalize_code("ABCDEFGH1JK1MN0P")


def test_invitations_finished_long_ago_are_removed_and_usable_ones_kept(
    db_session: Session,
) -> None:
    manager = rows.account(db_session, Role.SERVICE_MANAGER)
    now = utcnow()
    month = timedelta(days=30)
    long_ago = now - month - timedelta(days=1)
    gone = [
        rows.invitation(db_session, manager, redeemed_at=long_ago),
        rows.invitation(db_session, manager, revoked_at=long_ago),
        rows.invitation(db_session, manager, expires_at=long_ago),
    ]
    kept = [
        rows.invitation(db_session, manager),  # still waiting to be used
        rows.invitation(db_session, manager, redeemed_at=now - timedelta(days=2)),
        rows.invitation(db_session, manager, expires_at=now - timedelta(days=2)),
    ]

    assert delete_finished(db_session, before=now - month, limit=10) == 3

    left = set(db_session.scalars(select(Invitation.id)))
    assert left == {i.id for i in kept}
    assert left.isdisjoint(i.id for i in gone)
