"""Every periodic job, run once per period for the whole service.

    upload-cleanup     uploads never sent, content ids never used, orphan blobs  every 15 min
    sign-in-failures   failures older than the throttling window                 every 15 min
    ended-sessions     sessions that ended or expired more than a day ago       every hour
    known-browsers     browsers no sign-in used for 400 days                    every day
    used-invitations   invitations used, withdrawn or expired 30+ days ago       every day
    notices            queued notices whose time has come, by e-mail            every minute
    overdue-referrals  notices to readers of referrals past first-contact target every hour
    account-events     events of "What happened lately" older than 90 days       every day
    planner-statistics SQLite's ANALYZE (PostgreSQL's autovacuum keeps its own)  every day

``portal serve`` runs :func:`run_forever` in each server process; a lease per job
(``portal/leases.py``) lets exactly one process run it per period, however many processes or
machines share the database. ``portal cleanup`` runs every job once, now (still never two runs
of a job at once). Each job works in short batches, one transaction each, and renews its lease
between them: SQLite's write lock is never held for a whole run, and a run that lost its lease
(it took longer than the lease) stops and leaves the rest to the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from portal import leases
from portal.accounts import browsers, throttle
from portal.accounts import sessions as account_sessions
from portal.blobstore import BlobStore
from portal.content import cleanup
from portal.db import refresh_planner_statistics, utcnow
from portal.invitations import services as invitations
from portal.messages.services import CONTENT_IN_USE
from portal.notifications import outbox
from portal.notifications import services as notices
from portal.referrals import services as referrals
from portal.settings import Settings

log = logging.getLogger("portal.maintenance")

# Rows per transaction.
BATCH = 200
# A run renews its lease between batches; a holder that died lets it lapse after this long.
LEASE = timedelta(minutes=10)
# How often each server process looks for a job that is due (a read that takes no lock).
TICK_SECONDS = 60.0
# Ended sessions and finished invitations are kept this long after they stopped being usable.
SESSIONS_KEPT = timedelta(days=1)
INVITATIONS_KEPT = timedelta(days=30)
FAILED = "Failed: see the log. It runs again after its period."


def run_cleanup(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    *,
    batch: int = BATCH,
    keep_going: Callable[[], bool] = lambda: True,
) -> cleanup.CleanupReport:
    """The upload cleanup, told which columns (messages') keep a content object in use."""
    return cleanup.run_cleanup(
        sessions,
        blobs,
        settings,
        in_use=CONTENT_IN_USE,
        batch=batch,
        keep_going=keep_going,
    )


@dataclass
class Run:
    """One run of one job: what it works with, and its lease to keep."""

    job: str
    holder: str
    sessions: sessionmaker[Session]
    blobs: BlobStore
    settings: Settings
    batch: int

    def keep_going(self) -> bool:
        """Between batches: renew the lease; False if it was lost (then stop)."""
        if leases.renew(self.sessions, self.job, self.holder, lease=LEASE):
            return True
        log.warning("maintenance job %s lost its lease; it stops here", self.job)
        return False

    def in_batches(self, remove: Callable[[Session], int]) -> int:
        """``remove`` (up to ``batch`` rows) in transactions of its own until none are left."""
        total = 0
        while True:
            with self.sessions() as db:
                removed = remove(db)
                db.commit()
            total += removed
            if removed < self.batch or not self.keep_going():
                return total


def _upload_cleanup(run: Run) -> str:
    report = run_cleanup(
        run.sessions, run.blobs, run.settings, batch=run.batch, keep_going=run.keep_going
    )
    return f"Cleanup removed {report}."


def _sign_in_failures(run: Run) -> str:
    removed = run.in_batches(lambda db: throttle.prune(db, run.settings, limit=run.batch))
    return f"Removed {removed} sign-in failures older than the throttling window."


def _ended_sessions(run: Run) -> str:
    before = utcnow() - SESSIONS_KEPT
    removed = run.in_batches(
        lambda db: account_sessions.delete_finished(db, before=before, limit=run.batch)
    )
    return f"Removed {removed} sessions that ended more than a day ago."


def _known_browsers(run: Run) -> str:
    before = utcnow() - browsers.KEPT
    removed = run.in_batches(lambda db: browsers.delete_unused(db, before=before, limit=run.batch))
    return f"Removed {removed} browsers no sign-in used for 400 days."


def _used_invitations(run: Run) -> str:
    before = utcnow() - INVITATIONS_KEPT
    removed = run.in_batches(
        lambda db: invitations.delete_finished(db, before=before, limit=run.batch)
    )
    return f"Removed {removed} invitations used, withdrawn or expired over 30 days ago."


def _notices(run: Run) -> str:
    if run.settings.smtp is None:
        return "No mail server is set up, so no notices are sent."
    report = outbox.send_due(run.sessions, run.settings, utcnow(), keep_going=run.keep_going)
    return f"Notices: {report}."


def _overdue_referrals(run: Run) -> str:
    with run.sessions() as db:
        queued = referrals.queue_overdue_notices(db, run.settings, utcnow())
        db.commit()
    return f"Queued {queued} notices of referrals past their first-contact target."


def _account_events(run: Run) -> str:
    before = utcnow() - notices.EVENTS_KEPT
    removed = run.in_batches(lambda db: notices.prune_events(db, before=before, limit=run.batch))
    return f"Removed {removed} events older than {notices.EVENTS_KEPT.days} days."


def _planner_statistics(run: Run) -> str:
    # One short transaction: ANALYZE reads at most db.ANALYSIS_LIMIT rows of each index.
    with run.sessions() as db:
        refreshed = refresh_planner_statistics(db)
        db.commit()
    if not refreshed:
        return "PostgreSQL keeps its own planner statistics (autovacuum)."
    return "SQLite's planner statistics made anew."


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    work: Callable[[Run], str]


JOBS = (
    Job("upload-cleanup", timedelta(seconds=cleanup.EVERY_SECONDS), _upload_cleanup),
    Job("sign-in-failures", timedelta(minutes=15), _sign_in_failures),
    Job("ended-sessions", timedelta(hours=1), _ended_sessions),
    Job("known-browsers", timedelta(days=1), _known_browsers),
    Job("used-invitations", timedelta(days=1), _used_invitations),
    Job("notices", timedelta(minutes=1), _notices),
    Job("overdue-referrals", timedelta(hours=1), _overdue_referrals),
    Job("account-events", timedelta(days=1), _account_events),
    Job("planner-statistics", timedelta(days=1), _planner_statistics),
)


@dataclass
class Maintenance:
    """The jobs as one process runs them; another process has its own, with its own holder."""

    sessions: sessionmaker[Session]
    blobs: BlobStore
    settings: Settings
    jobs: tuple[Job, ...] = JOBS
    batch: int = BATCH
    holder: str = field(default_factory=leases.new_holder)

    def run_due(self) -> dict[str, str]:
        """Every job whose period has passed and that no other process is running; the report
        of each job this process ran, by name."""
        return self._run(force=False)

    def run_all_now(self) -> dict[str, str]:
        """Every job, now, whatever its period (``portal cleanup``); a job another process is
        running at this moment is skipped."""
        return self._run(force=True)

    def _run(self, *, force: bool) -> dict[str, str]:
        reports: dict[str, str] = {}
        jobs = self.jobs
        if not force:
            due = leases.due(self.sessions, {job.name: job.every for job in jobs})
            jobs = tuple(job for job in jobs if job.name in due)
        for job in jobs:
            every = None if force else job.every
            if not leases.take(self.sessions, job.name, self.holder, every=every, lease=LEASE):
                continue  # another process took it first, or is running it now
            run = Run(job.name, self.holder, self.sessions, self.blobs, self.settings, self.batch)
            try:
                reports[job.name] = job.work(run)
                log.info("maintenance job %s: %s", job.name, reports[job.name])
            except Exception:
                # Like any run, a failed one waits a period before the next try.
                log.exception("maintenance job %s failed", job.name)
                reports[job.name] = FAILED
            finally:
                leases.release(self.sessions, job.name, self.holder)
        return reports


async def run_forever(maintenance: Maintenance) -> None:
    """Inside ``portal serve``: after ``PORTAL_MAINTENANCE_START_SECONDS`` (a minute), look for
    due jobs every minute. A job is due only when its period has passed since its last run by
    any process (its lease row), so a server restarting in a loop repeats nothing, and notices
    queued before a restart go out a minute after it, not a cleanup period later."""
    await asyncio.sleep(maintenance.settings.maintenance_start_seconds)
    while True:
        try:
            await run_in_threadpool(maintenance.run_due)
        except Exception:
            log.exception("maintenance could not run; it tries again in %d seconds", TICK_SECONDS)
        await asyncio.sleep(TICK_SECONDS)
