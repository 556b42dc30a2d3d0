"""Leases that let one process at a time run a periodic job, once per period, however many
server processes (``portal serve --workers N``, several machines) share the database.

A lease row per job says who holds it (``holder``), until when (``leased_until``) and when the
job last finished. Taking it is one conditional UPDATE: the row changes only if nobody holds a
live lease and the period has passed since the last run, and only the process whose UPDATE
changed the row runs the job. SQLite serialises writers (``BEGIN IMMEDIATE``, see db.py);
PostgreSQL re-checks the condition on the row a competing UPDATE just committed, so on both
exactly one process wins. A holder that dies simply lets its lease lapse.

Each call here is one short transaction of its own: a job never runs inside the transaction
that took its lease.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import String, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from portal.db import READ_ONLY, Base, utcnow


class MaintenanceLease(Base):
    __tablename__ = "maintenance_leases"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(
        String(64),
        comment="the process running the job now (host:pid:random); NULL when nobody is",
    )
    leased_until: Mapped[datetime | None] = mapped_column(
        comment="the holder's claim lapses then unless renewed (a crashed holder's does)"
    )
    last_finished_at: Mapped[datetime | None] = mapped_column(
        comment="the end of the last run, successful or not; the next is due a period later"
    )


def new_holder() -> str:
    """A name for this process that no other process shares."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _ensure_row(db: Session, job: str) -> None:
    """The job's row, made on first use (every process may try at once: only one inserts)."""
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.execute(insert(MaintenanceLease).values(job=job).on_conflict_do_nothing())


def due(sessions: sessionmaker[Session], periods: dict[str, timedelta]) -> set[str]:
    """The jobs (name: period) that nobody holds and whose period has passed, read without
    taking any write lock: only those are worth trying to :func:`take`."""
    now = utcnow()
    with sessions() as db:
        db.connection(execution_options={READ_ONLY: True})
        rows = {
            row.job: row
            for row in db.scalars(
                select(MaintenanceLease).where(MaintenanceLease.job.in_(list(periods)))
            )
        }
    return {
        job
        for job, every in periods.items()
        if (row := rows.get(job)) is None
        or (
            (row.leased_until is None or row.leased_until < now)
            and (row.last_finished_at is None or row.last_finished_at <= now - every)
        )
    }


def take(
    sessions: sessionmaker[Session],
    job: str,
    holder: str,
    *,
    every: timedelta | None,
    lease: timedelta,
) -> bool:
    """Take the job's lease if nobody holds it and (unless ``every`` is None: now, whatever the
    period) its period has passed since it last finished. True if this holder runs it."""
    now = utcnow()
    conditions = [
        MaintenanceLease.job == job,
        or_(MaintenanceLease.leased_until.is_(None), MaintenanceLease.leased_until < now),
    ]
    if every is not None:
        conditions.append(
            or_(
                MaintenanceLease.last_finished_at.is_(None),
                MaintenanceLease.last_finished_at <= now - every,
            )
        )
    with sessions() as db:
        _ensure_row(db, job)
        taken = db.execute(
            update(MaintenanceLease)
            .where(*conditions)
            .values(holder=holder, leased_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        db.commit()
    return getattr(taken, "rowcount", 0) == 1


def renew(sessions: sessionmaker[Session], job: str, holder: str, *, lease: timedelta) -> bool:
    """Extend a lease still held (between batches); False if it lapsed and another took it."""
    with sessions() as db:
        renewed = db.execute(
            update(MaintenanceLease)
            .where(MaintenanceLease.job == job, MaintenanceLease.holder == holder)
            .values(leased_until=utcnow() + lease)
            .execution_options(synchronize_session=False)
        )
        db.commit()
    return getattr(renewed, "rowcount", 0) == 1


def release(sessions: sessionmaker[Session], job: str, holder: str) -> None:
    """The run is over (done or failed): the next one is due a period from now."""
    with sessions() as db:
        db.execute(
            update(MaintenanceLease)
            .where(MaintenanceLease.job == job, MaintenanceLease.holder == holder)
            .values(holder=None, leased_until=None, last_finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.commit()
