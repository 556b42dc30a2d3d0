"""The facilitator's home kept as rows (portal/homes): kept once read from the cases, served
while nothing it reads has changed and the day it was read for lasts, read again after any
change to the facilitator's cases, and never kept from a read that a change overtook: on both
databases, and on PostgreSQL with the change and the keeping in real concurrent transactions."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Account
from portal.cases import path
from portal.cases.models import Case, Side
from portal.db import HOME_TOUCHES, make_session_factory, utcnow
from portal.homes import changes, store
from portal.homes.models import HomeHead
from portal.messages.models import Message
from portal.workspace import facilitator_home as home
from tests import rows
from tests.support.locks import until_it_waits_for_a_lock


def _scene(sessions: sessionmaker[Session]) -> tuple[str, str]:
    """A facilitator's case with one letter waiting for review: (case id, facilitator id)."""
    with sessions() as db:
        case = rows.case(db)
        harmed = rows.participant(db, case, Side.PERSON_HARMED)
        responsible = rows.participant(db, case)
        rows.message(db, responsible, harmed)
        scene = (case.id, rows.facilitator_of(case).id)
        db.commit()
    return scene


def _read(sessions: sessionmaker[Session], facilitator_id: str) -> home.HomeRead:
    with sessions() as db:
        read = home.facilitator_home(db, rows.found(db, Account, facilitator_id))
        db.rollback()
    return read


def _another_letter(db: Session, case_id: str) -> None:
    case = rows.found(db, Case, case_id)
    responsible, harmed = sorted(case.participants, key=lambda p: p.side != Side.PERSON_RESPONSIBLE)
    rows.message(db, responsible, harmed)


def _kept(sessions: sessionmaker[Session], facilitator_id: str) -> home.HomeRead:
    """The facilitator's home read from the cases, and kept."""
    read = _read(sessions, facilitator_id)
    assert read.to_keep is not None
    assert store.keep(sessions, read.to_keep)
    return read


def _two_kept_homes(sessions: sessionmaker[Session]) -> tuple[str, str, str]:
    """Two facilitators' cases, each home kept: (the first's case, the first, the second)."""
    case_id, facilitator_id = _scene(sessions)
    _other_case, other_id = _scene(sessions)
    _kept(sessions, facilitator_id)
    _kept(sessions, other_id)
    return case_id, facilitator_id, other_id


def _waiting(read: home.HomeRead) -> int:
    return int(read.context["queue_count"].count)


def test_a_home_read_from_the_cases_is_kept_then_served_as_kept(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    _case_id, facilitator_id = _scene(sessions)
    first = _read(sessions, facilitator_id)
    assert first.to_keep is not None
    assert _waiting(first) == 1
    assert store.keep(sessions, first.to_keep)
    served = _read(sessions, facilitator_id)
    assert served.to_keep is None  # from what was kept
    assert served.context == first.context


def test_a_change_to_the_facilitators_case_is_counted_and_the_home_read_again(
    db_engine: Engine,
) -> None:
    sessions = make_session_factory(db_engine)
    case_id, facilitator_id = _scene(sessions)
    _kept(sessions, facilitator_id)
    with sessions() as db:
        _another_letter(db, case_id)
        db.commit()
    again = _read(sessions, facilitator_id)
    assert again.to_keep is not None  # read from the cases
    assert _waiting(again) == 2


def test_a_change_elsewhere_leaves_the_home_kept(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    _case_id, facilitator_id = _scene(sessions)
    other_case, _other = _scene(sessions)
    _kept(sessions, facilitator_id)
    with sessions() as db:
        _another_letter(db, other_case)
        db.commit()
    assert _read(sessions, facilitator_id).to_keep is None


def test_a_home_read_before_a_change_is_not_kept(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    case_id, facilitator_id = _scene(sessions)
    stale = _read(sessions, facilitator_id)
    with sessions() as db:
        _another_letter(db, case_id)
        db.commit()
    assert stale.to_keep is not None
    assert not store.keep(sessions, stale.to_keep)
    assert _waiting(_read(sessions, facilitator_id)) == 2


def test_what_is_kept_stops_holding_when_its_day_ends(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    _case_id, facilitator_id = _scene(sessions)
    first = _read(sessions, facilitator_id)
    assert first.to_keep is not None
    # Kept until the day it was read for ends (its follow-ups are that day's).
    assert utcnow() < first.to_keep.until <= utcnow() + timedelta(days=1)
    assert store.keep(sessions, first.to_keep)
    with sessions() as db:
        db.execute(update(HomeHead).values(kept_until=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert _read(sessions, facilitator_id).to_keep is not None


def test_a_home_kept_by_another_version_of_its_statement_is_read_again(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    _case_id, facilitator_id = _scene(sessions)
    _kept(sessions, facilitator_id)
    with sessions() as db:
        db.execute(update(HomeHead).values(kept_for="an older portal"))
        db.commit()
    assert _read(sessions, facilitator_id).to_keep is not None


def test_kept_rows_that_went_out_of_lately_are_not_shown() -> None:
    """Rows kept on an earlier day: a withdrawal or a hand-over older than the home's "lately"
    (cases/policy.WITHDRAWALS_DAYS) when the home is served is left out."""
    now = utcnow()
    since = now - timedelta(days=30)
    rows = [
        ("withdrawal", since + timedelta(minutes=1), "c1", "CASE-1", "person_harmed", None),
        ("withdrawal", since - timedelta(minutes=1), "c2", "CASE-2", "person_harmed", None),
        ("handed-over", since - timedelta(minutes=1), "c3", "CASE-3", "by-me", None),
    ]
    shown = home.shown_context(rows, path.today(), since)
    assert [w.case_id for w in shown["withdrawals"]] == ["c1"]
    assert shown["handed_over"] == []


def test_a_statement_that_names_nothing_counts_a_change_for_every_kept_home(
    db_engine: Engine,
) -> None:
    sessions = make_session_factory(db_engine)
    _case_id, facilitator_id, other_id = _two_kept_homes(sessions)
    with sessions() as db:
        db.execute(update(Message).values(claimed_by_id=None))
        db.commit()
    assert _read(sessions, facilitator_id).to_keep is not None
    assert _read(sessions, other_id).to_keep is not None


def test_a_statement_that_names_what_it_changed_counts_for_those_alone(
    db_engine: Engine,
) -> None:
    sessions = make_session_factory(db_engine)
    case_id, facilitator_id, other_id = _two_kept_homes(sessions)
    with sessions() as db:
        db.execute(
            update(Message)
            .where(Message.case_id == case_id)
            .values(claimed_by_id=None)
            .execution_options(**{HOME_TOUCHES: {"cases": [case_id]}})
        )
        db.commit()
    assert _read(sessions, facilitator_id).to_keep is not None
    assert _read(sessions, other_id).to_keep is None


def test_the_tables_counted_are_the_tables_the_home_reads() -> None:
    from sqlalchemy import Table
    from sqlalchemy.sql import visitors

    read = {el.name for el in visitors.iterate(home.HOME.statement) if isinstance(el, Table)}
    # Its own head is read for the count, and is no change to anyone's cases.
    assert read - {"home_heads"} == changes.READ_TABLES


def _kept_count(engine: Engine, account_id: str) -> tuple[Any, ...]:
    with make_session_factory(engine)() as db:
        row = db.execute(
            select(HomeHead.changes, HomeHead.kept_at_changes).where(
                HomeHead.account_id == account_id
            )
        ).one()
    return tuple(row)


def test_keeping_waits_for_a_change_that_is_committing_then_refuses(pg_engine: Engine) -> None:
    """The change counts (making the head's row: the service's changes were made before
    homes were kept), and keeping a home read before it waits for that commit, then sees the
    count moved."""
    sessions = make_session_factory(pg_engine)
    case_id, facilitator_id = _scene(sessions)
    with sessions() as db:
        db.execute(delete(HomeHead))
        db.commit()
    stale = _read(sessions, facilitator_id)
    assert stale.to_keep is not None
    kept: list[bool] = []
    with sessions() as db:
        _another_letter(db, case_id)
        changes.count_now(db)
        to_keep = stale.to_keep
        thread = threading.Thread(target=lambda: kept.append(store.keep(sessions, to_keep)))
        thread.start()
        until_it_waits_for_a_lock(
            pg_engine,
            thread,
            did_not_wait="keeping did not wait for the change",
            never_waited="keeping never waited for the change",
        )
        db.commit()
    thread.join(timeout=30)
    assert kept == [False]
    assert _kept_count(pg_engine, facilitator_id) == (1, None)
    assert _waiting(_read(sessions, facilitator_id)) == 2


def test_a_change_counted_while_a_home_is_kept_waits_then_outdates_it(pg_engine: Engine) -> None:
    """Keeping holds the head's row to its commit; a change counting meanwhile waits for it,
    then counts one more, so what was kept is never served."""
    sessions = make_session_factory(pg_engine)
    case_id, facilitator_id = _scene(sessions)
    _kept(sessions, facilitator_id)
    with sessions() as db:
        _another_letter(db, case_id)
        db.flush()
        # Read after the letter was written but before it commits: its count is not there yet.
        with sessions() as reading:
            today = path.today()
            racing = home.read_from_cases(
                reading, facilitator_id, today, home.home_parameters(facilitator_id, today)
            )
        assert racing.to_keep is not None
        with sessions() as keeping:
            keeping.execute(
                select(HomeHead).where(HomeHead.account_id == facilitator_id).with_for_update()
            )
            thread = threading.Thread(target=lambda: db.commit())
            thread.start()
            until_it_waits_for_a_lock(
                pg_engine,
                thread,
                did_not_wait="the change did not wait for keeping",
                never_waited="the change never waited for keeping",
            )
            keeping.commit()
        thread.join(timeout=30)
    assert not store.keep(sessions, racing.to_keep)
    assert _waiting(_read(sessions, facilitator_id)) == 2


@pytest.mark.sqlite_only
def test_keeping_never_queues_behind_a_writer_on_sqlite(db_engine: Engine) -> None:
    """SQLite: a writer holds the database's lock; keeping gives up at once (the home is read
    from the cases at its next visit) rather than hold a thread until the lock is free."""
    sessions = make_session_factory(db_engine)
    _case_id, facilitator_id = _scene(sessions)
    first = _read(sessions, facilitator_id)
    assert first.to_keep is not None
    with sessions() as writer:
        writer.execute(update(HomeHead).values(kept_until=None))  # holds the write lock
        started = time.monotonic()
        assert not store.keep(sessions, first.to_keep)
        assert time.monotonic() - started < 5
        writer.rollback()
    assert store.keep(sessions, first.to_keep)


def test_every_process_reads_the_home_by_the_same_statement() -> None:
    """Server processes differ in how they order a set's strings (PYTHONHASHSEED): the home's
    SQL, and so the fingerprint its kept rows are told by, must not. Two workers with two
    fingerprints would each read the other's kept home as another version's, and keep their
    own, at every visit."""
    script = (
        "from sqlalchemy.dialects import postgresql, sqlite\n"
        "from portal.workspace.facilitator_home import HOME\n"
        "print(HOME.fingerprint(postgresql.dialect()), HOME.fingerprint(sqlite.dialect()))\n"
    )
    printed = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(printed) == 1, printed
