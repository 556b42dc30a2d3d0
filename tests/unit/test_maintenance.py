"""The periodic jobs: two runners (two server processes) against one database, on SQLite and
PostgreSQL; each job runs once per period, in batches, and the real jobs remove what is old."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import KnownBrowser, Role, SignInFailure, SignInSession
from portal.blobstore import FilesystemBlobStore
from portal.db import make_session_factory, utcnow
from portal.invitations.models import Invitation
from portal.leases import MaintenanceLease
from portal.maintenance import FAILED, Job, Maintenance, Run, run_forever
from portal.notifications import services as notices
from portal.notifications.models import AccountEvent, NoticeEvent
from portal.settings import Settings
from tests import rows
from tests.support.loops import run_in_new_loop

HOUR = timedelta(hours=1)


def _runner(
    engine: Engine, settings: Settings, tmp_path: Path, jobs: tuple[Job, ...], batch: int = 200
) -> Maintenance:
    return Maintenance(
        make_session_factory(engine),
        FilesystemBlobStore(tmp_path / "blobs"),
        settings,
        jobs=jobs,
        batch=batch,
    )


def _age_last_run(sessions: sessionmaker[Session], by: timedelta) -> None:
    with sessions() as db:
        db.execute(update(MaintenanceLease).values(last_finished_at=utcnow() - by))
        db.commit()


def test_two_runners_run_a_job_once_per_period(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    ran: list[str] = []
    seen_by_b: list[dict[str, str]] = []

    def work(run: Run) -> str:
        ran.append(run.holder)
        # While this run holds the lease, the other process finds nothing to do.
        seen_by_b.append(b.run_due())
        return "done"

    jobs = (Job("counted", HOUR, work),)
    a = _runner(db_engine, settings, tmp_path, jobs)
    b = _runner(db_engine, settings, tmp_path, jobs)

    assert a.run_due() == {"counted": "done"}
    assert seen_by_b == [{}]
    assert b.run_due() == {}  # the period has not passed
    assert a.run_due() == {}
    _age_last_run(a.sessions, HOUR)
    assert b.run_due() == {"counted": "done"}
    assert ran == [a.holder, b.holder]


def test_running_now_ignores_the_period_and_a_failure_waits_for_the_next(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    def fails(run: Run) -> str:
        raise RuntimeError("the disk is gone")

    runner = _runner(db_engine, settings, tmp_path, (Job("fragile", HOUR, fails),))
    assert runner.run_all_now() == {"fragile": FAILED}
    assert runner.run_due() == {}  # failed just now: tried again a period later
    assert runner.run_all_now() == {"fragile": FAILED}


def test_a_run_stops_between_batches_once_its_lease_is_lost(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    batches: list[int] = []

    def endless(run: Run) -> str:
        def remove(db: Session) -> int:
            batches.append(len(batches))
            # Another process took over (this one was too slow): the lease is no longer ours.
            db.execute(update(MaintenanceLease).values(holder="someone else"))
            return run.batch

        return str(run.in_batches(remove))

    runner = _runner(db_engine, settings, tmp_path, (Job("slow", HOUR, endless),), batch=5)
    assert runner.run_all_now() == {"slow": "5"}
    assert batches == [0]


def test_the_jobs_remove_old_failures_sessions_and_invitations(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    now = utcnow()
    sessions = make_session_factory(db_engine)
    with sessions() as db:
        manager = rows.account(db, Role.SERVICE_MANAGER)
        rows.sign_in_failure(db, now - timedelta(days=1))
        recent_failure = rows.sign_in_failure(db, now)
        rows.sign_in_session(db, manager, started=now - timedelta(days=3), ended_at=now - HOUR * 48)
        active = rows.sign_in_session(db, manager)
        rows.known_browser(db, manager, last_seen=now - timedelta(days=401))
        used = rows.known_browser(db, manager, last_seen=now - timedelta(days=399))
        rows.invitation(db, manager, expires_at=now - timedelta(days=40))
        waiting = rows.invitation(db, manager)
        old = now - notices.EVENTS_KEPT - HOUR
        notices.queue(db, settings, [manager.id], NoticeEvent.DECLINE, now=old)
        lately = now - notices.EVENTS_KEPT + HOUR
        notices.queue(db, settings, [manager.id], NoticeEvent.WAITING_FOR_YOU, now=lately)
        db.commit()
        kept = (recent_failure.id, active.id, waiting.id, used.id)

    runner = Maintenance(sessions, FilesystemBlobStore(tmp_path / "blobs"), settings, batch=1)
    reports = runner.run_due()

    assert reports == {
        "upload-cleanup": "Cleanup removed 0 expired uploads, 0 unused content ids, "
        "0 stale temporary files, 0 orphan folders.",
        "sign-in-failures": "Removed 1 sign-in failures older than the throttling window.",
        "ended-sessions": "Removed 1 sessions that ended more than a day ago.",
        "known-browsers": "Removed 1 browsers no sign-in used for 400 days.",
        "used-invitations": "Removed 1 invitations used, withdrawn or expired over 30 days ago.",
        "notices": "No mail server is set up, so no notices are sent.",
        "overdue-referrals": "Queued 0 notices of referrals past their first-contact target.",
        "account-events": "Removed 1 events older than 90 days.",
        "planner-statistics": (
            "SQLite's planner statistics made anew."
            if db_engine.dialect.name == "sqlite"
            else "PostgreSQL keeps its own planner statistics (autovacuum)."
        ),
    }
    with sessions() as db:
        assert list(db.scalars(select(AccountEvent.event))) == [NoticeEvent.WAITING_FOR_YOU]
        assert list(db.scalars(select(SignInFailure.id))) == [kept[0]]
        assert list(db.scalars(select(SignInSession.id))) == [kept[1]]
        assert list(db.scalars(select(Invitation.id))) == [kept[2]]
        assert list(db.scalars(select(KnownBrowser.id))) == [kept[3]]
    assert runner.run_due() == {}
    if db_engine.dialect.name == "sqlite":
        # What SQLite's planner now knows of the tables (it keeps nothing by itself).
        with db_engine.connect() as connection:
            known = {row[0] for row in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
        assert {"invitations", "sessions", "account_events"} <= known, known


def test_every_job_commits_a_batch_at_a_time(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """A large cleanup never holds the write lock (SQLite) or its rows (PostgreSQL) for longer
    than one batch: each transaction removes at most ``batch`` rows, then commits, so that
    requests get through between batches."""
    now = utcnow()
    old = now - timedelta(days=40)
    sessions = make_session_factory(db_engine)
    with sessions() as db:
        manager = rows.account(db, Role.SERVICE_MANAGER)
        in_case = rows.case(db)
        for _ in range(25):
            rows.sign_in_failure(db, old)
            rows.sign_in_session(db, manager, started=old, ended_at=old)
            rows.invitation(db, manager, expires_at=old)
            rows.known_browser(db, manager, last_seen=now - timedelta(days=401))
            unused = rows.content_object(db, in_case, manager)
            unused.created_at = old
            aged = old - notices.EVENTS_KEPT
            notices.queue(db, settings, [manager.id], NoticeEvent.DECLINE, now=aged)
        db.commit()

    removed_in_transaction: list[int] = []
    removing = 0

    def count_removed(_conn: object, cursor: Any, statement: str, *_args: object) -> None:
        nonlocal removing
        if statement.lstrip().upper().startswith("DELETE"):
            removing += max(0, cursor.rowcount)

    def committed(_conn: object) -> None:
        nonlocal removing
        if removing:
            removed_in_transaction.append(removing)
        removing = 0

    event.listen(db_engine, "after_cursor_execute", count_removed)
    event.listen(db_engine, "commit", committed)
    try:
        reports = Maintenance(
            sessions, FilesystemBlobStore(tmp_path / "blobs"), settings, batch=10
        ).run_all_now()
    finally:
        event.remove(db_engine, "after_cursor_execute", count_removed)
        event.remove(db_engine, "commit", committed)

    assert FAILED not in reports.values()
    assert "25 unused content ids" in reports["upload-cleanup"]
    assert reports["sign-in-failures"].startswith("Removed 25 ")
    assert reports["ended-sessions"].startswith("Removed 25 ")
    assert reports["used-invitations"].startswith("Removed 25 ")
    assert reports["account-events"].startswith("Removed 25 ")
    assert reports["known-browsers"].startswith("Removed 25 ")
    # 6 jobs of 25 rows in batches of 10: 3 transactions each, none removing more than 10.
    assert sum(removed_in_transaction) == 150
    assert len(removed_in_transaction) == 18
    assert max(removed_in_transaction) <= 10


def test_a_server_looks_for_due_jobs_soon_after_it_starts_and_a_restart_repeats_none(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """``run_forever`` waits ``PORTAL_MAINTENANCE_START_SECONDS``, then runs what is due: a
    job that ran within its period (in a process that has since stopped) is not due."""
    ran: list[str] = []

    def work(run: Run) -> str:
        ran.append(run.holder)
        return "done"

    jobs = (Job("counted", HOUR, work),)
    soon = dataclasses.replace(settings, maintenance_start_seconds=0)

    async def serve_briefly(runner: Maintenance) -> None:
        task = asyncio.create_task(run_forever(runner))
        for _ in range(200):  # the first look runs in a worker thread
            await asyncio.sleep(0.02)
            if ran or task.done():
                break
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    first = _runner(db_engine, soon, tmp_path, jobs)
    run_in_new_loop(partial(serve_briefly, first))
    assert ran == [first.holder]
    restarted = _runner(db_engine, soon, tmp_path, jobs)
    run_in_new_loop(partial(serve_briefly, restarted))
    assert ran == [first.holder]  # within its period: the restart ran nothing
    assert settings.maintenance_start_seconds == 86400  # the tests' servers never start one
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).maintenance_start_seconds == 60
