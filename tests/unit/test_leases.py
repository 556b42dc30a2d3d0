"""Job leases on a real database (each test's own, on SQLite and PostgreSQL): whoever takes a
lease runs the job, nobody else does until the period has passed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from portal import leases
from portal.db import make_session_factory, utcnow
from portal.leases import MaintenanceLease

HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=10)


def _sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def test_one_holder_takes_the_lease_and_the_other_waits_a_period(db_engine: Engine) -> None:
    sessions = _sessions(db_engine)
    assert leases.due(sessions, {"job": HOUR}) == {"job"}  # never run: due, and no row yet

    assert leases.take(sessions, "job", "a", every=HOUR, lease=LEASE)
    assert not leases.take(sessions, "job", "b", every=HOUR, lease=LEASE)  # a holds it
    assert not leases.take(sessions, "job", "b", every=None, lease=LEASE)  # even when forced
    assert leases.due(sessions, {"job": HOUR}) == set()
    leases.release(sessions, "job", "a")

    assert not leases.take(sessions, "job", "b", every=HOUR, lease=LEASE)  # ran moments ago
    assert leases.take(sessions, "job", "b", every=None, lease=LEASE)  # forced: now
    leases.release(sessions, "job", "b")
    with sessions() as db:
        db.execute(update(MaintenanceLease).values(last_finished_at=utcnow() - HOUR))
        db.commit()
    assert leases.due(sessions, {"job": HOUR}) == {"job"}
    assert leases.take(sessions, "job", "a", every=HOUR, lease=LEASE)


def test_a_lapsed_lease_is_taken_over_and_its_old_holder_cannot_renew_it(
    db_engine: Engine,
) -> None:
    sessions = _sessions(db_engine)
    assert leases.take(sessions, "job", "crashed", every=HOUR, lease=LEASE)
    assert leases.renew(sessions, "job", "crashed", lease=LEASE)
    with sessions() as db:
        db.execute(update(MaintenanceLease).values(leased_until=utcnow() - timedelta(seconds=1)))
        db.commit()

    assert leases.take(sessions, "job", "next", every=HOUR, lease=LEASE)
    assert not leases.renew(sessions, "job", "crashed", lease=LEASE)
    leases.release(sessions, "job", "crashed")  # too late: changes nothing
    assert not leases.take(sessions, "job", "third", every=None, lease=LEASE)


def test_jobs_have_leases_of_their_own(db_engine: Engine) -> None:
    sessions = _sessions(db_engine)
    assert leases.take(sessions, "one", "a", every=HOUR, lease=LEASE)
    assert leases.take(sessions, "two", "b", every=HOUR, lease=LEASE)
    assert leases.due(sessions, {"one": HOUR, "two": HOUR, "three": HOUR}) == {"three"}
