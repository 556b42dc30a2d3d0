"""Reading a kept home, and keeping one that was read from the cases.

A home is kept as the rows its statement gave, with the count of changes (changes.py) it was
read at. Served from here only while that count is still the head's and the rows still hold
(``kept_until``: the day they were read for ends, or a supporter's access in the cases ends);
anything else is read from the cases again and kept again after the page is sent.

Why keeping never loses a change: the statement that reads a home from the cases also reads
its head's count, in one snapshot. Keeping takes the head's row (FOR UPDATE) and keeps the rows
only if the count is still the one read. A change that committed after that snapshot counted
one more (refused); a change still committing holds the row until it commits (then refused);
one that counts after the row is taken waits for the rows to be kept, then counts one more, so
the rows kept are never served. On SQLite every writing transaction holds the database's write
lock, which orders the same things.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    delete,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from portal.db import NO_WAIT, DriverQuery, UTCDateTime
from portal.homes.models import HomeHead, HomeRow

log = logging.getLogger(__name__)

# The row that says the rows before it are a fresh kept home.
KEPT_KIND = "kept"


def _kept_statement() -> Any:
    me = bindparam("account_id", type_=String)
    fresh = and_(
        HomeHead.account_id == me,
        HomeHead.kept_at_changes == HomeHead.changes,
        HomeHead.kept_for == bindparam("kept_for", type_=String),
        HomeHead.kept_until > bindparam("now", type_=UTCDateTime()),
    )
    rows = (
        select(HomeRow.kind, HomeRow.at, HomeRow.case_id, HomeRow.reference, HomeRow.detail)
        .add_columns(HomeRow.number)
        .join(HomeHead, HomeHead.account_id == HomeRow.account_id)
        .where(HomeRow.account_id == me, fresh)
    )
    head = (
        select(literal_column(f"'{KEPT_KIND}'", String), null(), null(), null(), null(), null())
        .select_from(HomeHead)
        .where(fresh)
    )
    return union_all(rows, head)


# The kept rows of ``account_id``'s home if they hold at ``now`` and were read by the statement
# whose fingerprint is ``kept_for`` (a new version of the portal reads them again), and a
# KEPT_KIND row then.
KEPT = DriverQuery(_kept_statement())


@dataclass(frozen=True)
class ToKeep:
    """A home read from the cases, to keep: its rows, the count they were read at, and when
    they stop holding."""

    account_id: str
    changes: int
    until: datetime
    rows: Sequence[tuple[Any, ...]]
    # The fingerprint of the statement that read them (db.DriverQuery.fingerprint).
    read_by: str


def keep(sessions: sessionmaker[Session], home: ToKeep) -> bool:
    """Keep ``home`` if nothing it reads has changed since (see the module); whether it was.
    Never the request's failure: a home not kept is read from the cases next time."""
    try:
        with sessions() as db:
            dialect = db.get_bind().dialect.name
            if dialect == "sqlite":
                # Never queue behind writers for the database's lock (a thread held meanwhile):
                # a home not kept now is read from the cases and kept at its next visit.
                db.connection(execution_options={NO_WAIT: True})
            upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # The head must exist to be held: made at 0 (nothing counted yet) if it does not.
            db.execute(
                upsert(HomeHead)
                .values(account_id=home.account_id, changes=0)
                .on_conflict_do_nothing()
            )
            changes = db.scalar(
                select(HomeHead.changes)
                .where(HomeHead.account_id == home.account_id)
                .with_for_update()
            )
            if changes != home.changes:
                db.rollback()
                return False
            db.execute(delete(HomeRow).where(HomeRow.account_id == home.account_id))
            if home.rows:
                db.execute(
                    insert(HomeRow),
                    [
                        {
                            "account_id": home.account_id,
                            "position": position,
                            "kind": kind,
                            "at": at,
                            "case_id": case_id,
                            "reference": reference,
                            "detail": detail,
                            "number": number,
                        }
                        for position, (kind, at, case_id, reference, detail, number) in enumerate(
                            home.rows
                        )
                    ],
                )
            db.execute(
                update(HomeHead)
                .where(HomeHead.account_id == home.account_id)
                .values(kept_at_changes=changes, kept_for=home.read_by, kept_until=home.until)
                .execution_options(synchronize_session=False)
            )
            db.commit()
            return True
    except OperationalError:
        # SQLite's lock taken (NO_WAIT), or PostgreSQL's lock_timeout: kept another time.
        log.debug("a home was not kept: the database was busy")
        return False
    except Exception:
        log.exception("could not keep a home (it is read from the cases next time)")
        return False
