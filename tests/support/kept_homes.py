"""Every kept home still holds: what a test's requests changed was counted for every home it
concerns (portal/homes/changes.py).

Run after each test that served the app in process (tests/conftest.py, ``client``): any kept
home that would be served now is read from the cases again and must show the same. A change
whose counting was missed (a new table the home reads, a statement that names nothing) fails
the test that made it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from portal.cases import path
from portal.db import make_session_factory, utcnow
from portal.homes import store
from portal.homes.models import HomeHead
from portal.workspace import facilitator_home as home


def assert_kept_homes_hold(engine: Engine) -> None:
    with make_session_factory(engine)() as db:
        now = utcnow()
        accounts = db.scalars(
            select(HomeHead.account_id).where(
                HomeHead.kept_at_changes == HomeHead.changes, HomeHead.kept_until > now
            )
        ).all()
        for account_id in accounts:
            today = path.today()
            parameters = home.home_parameters(account_id, today)
            rows = store.KEPT.all(
                db,
                {
                    "account_id": account_id,
                    "now": parameters["now"],
                    "kept_for": home.HOME.fingerprint(engine.dialect),
                },
            )
            if not any(row[0] == store.KEPT_KIND for row in rows):
                continue
            served = home.shown_context(rows, today, parameters["since"])
            read = home.read_from_cases(db, account_id, today, parameters).context
            assert served == read, f"the home kept for {account_id} no longer holds"
        db.rollback()
