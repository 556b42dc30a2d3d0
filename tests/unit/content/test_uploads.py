"""Holding uploaded chunks (portal/content/uploads.py) against real concurrent transactions.

Two PUTs of one upload record their chunks at once, on PostgreSQL (SQLite lets one writer in at
a time, so the race only exists there): each fits in what the upload declared, both together do
not. The first holds its transaction open after recording; the second must wait for the
upload's row, and once the first commits it must see the first's chunks and be refused, so the
held bytes never exceed what was declared and no row is lost.
"""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import Engine, func, select

from portal.blobstore import StoredChunk
from portal.content import uploads
from portal.content.models import HeldChunk, PendingUpload
from portal.db import make_session_factory, utcnow
from portal.errors import NotFound, TooLarge
from tests import rows
from tests.support.locks import until_it_waits_for_a_lock

CHUNK = 1000


def _upload(engine: Engine, declared: int) -> tuple[str, str]:
    """An upload of a letter that declared ``declared`` bytes: (object id, author's account)."""
    with make_session_factory(engine)() as db:
        case = rows.case(db)
        author = rows.participant(db, case)
        assert author.account_id is not None
        obj = rows.content_object(db, case, author.account)  # type: ignore[arg-type]
        now = utcnow()
        db.add(
            PendingUpload(
                object_id=obj.id,
                version=1,
                account_id=author.account_id,
                case_id=case.id,
                declared_bytes=declared,
                created_at=now,
                updated_at=now,
            )
        )
        db.commit()
        return obj.id, author.account_id


def _chunks(first: int, count: int) -> list[tuple[int, StoredChunk]]:
    return [(first + i, StoredChunk(CHUNK, secrets.token_bytes(32))) for i in range(count)]


def _race(engine: Engine, object_id: str, account_id: str, second_first: int) -> BaseException:
    """The first PUT records chunks 0-1 and holds its transaction; the second records two chunks
    from ``second_first`` meanwhile. Returns what refused the second."""
    sessions = make_session_factory(engine)
    outcome: list[BaseException | None] = [None]

    def second() -> None:
        with sessions() as db:
            try:
                uploads.record_chunks(db, account_id, object_id, 1, 1, _chunks(second_first, 2))
                db.commit()
            except BaseException as error:  # noqa: BLE001  (reported to the test below)
                db.rollback()
                outcome[0] = error

    with sessions() as db:
        uploads.record_chunks(db, account_id, object_id, 1, 1, _chunks(0, 2))
        thread = threading.Thread(target=second)
        thread.start()
        # The second must be made to wait for the upload's row: that is the whole point.
        until_it_waits_for_a_lock(
            engine,
            thread,
            did_not_wait="the second record did not wait for the first",
            never_waited="the second record never waited for the first",
        )
        db.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome[0] is not None, "the second record was not refused"
    return outcome[0]


def _held(engine: Engine, object_id: str) -> tuple[list[int], int]:
    with make_session_factory(engine)() as db:
        indexes = list(
            db.scalars(
                select(HeldChunk.index)
                .where(HeldChunk.object_id == object_id)
                .order_by(HeldChunk.index)
            )
        )
        total = db.scalar(select(func.sum(HeldChunk.size)).where(HeldChunk.object_id == object_id))
    return indexes, int(total or 0)


def test_two_puts_that_fit_alone_but_not_together_hold_one(pg_engine: Engine) -> None:
    object_id, account_id = _upload(pg_engine, declared=3 * CHUNK)
    refused = _race(pg_engine, object_id, account_id, second_first=2)
    assert isinstance(refused, TooLarge)
    assert _held(pg_engine, object_id) == ([0, 1], 2 * CHUNK)


def test_a_put_recorded_while_its_upload_is_cancelled_holds_nothing(pg_engine: Engine) -> None:
    """Cancelling (like submitting and expiry) removes the upload's row under the same lock: a
    record waiting for it finds the upload gone."""
    object_id, account_id = _upload(pg_engine, declared=4 * CHUNK)
    sessions = make_session_factory(pg_engine)
    outcome: list[BaseException | None] = [None]

    def record() -> None:
        with sessions() as db:
            try:
                uploads.record_chunks(db, account_id, object_id, 1, 1, _chunks(0, 2))
                db.commit()
            except BaseException as error:  # noqa: BLE001  (reported to the test below)
                db.rollback()
                outcome[0] = error

    with sessions() as db:
        pending = db.get(PendingUpload, (object_id, 1), with_for_update=True)
        assert pending is not None
        uploads.cancel_upload(db, pending)
        thread = threading.Thread(target=record)
        thread.start()
        until_it_waits_for_a_lock(
            pg_engine,
            thread,
            did_not_wait="the record did not wait for the cancel",
            never_waited="the record never waited for the cancel",
        )
        db.commit()
    thread.join(timeout=30)
    assert isinstance(outcome[0], NotFound)
    assert _held(pg_engine, object_id) == ([], 0)
