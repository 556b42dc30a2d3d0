"""Races with real concurrent transactions on PostgreSQL: telling when one transaction is
waiting for another's row lock, which is the moment a race test needs to reach."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session


def someone_waits_for_a_lock(engine: Engine) -> bool:
    """Whether any session of this database is waiting for a lock now."""
    with engine.connect() as watcher:
        count = watcher.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(count)


def until_it_waits_for_a_lock(
    engine: Engine, thread: threading.Thread, *, did_not_wait: str, never_waited: str
) -> None:
    """Return once ``thread``'s transaction waits for a lock; fail if the thread ended first
    (``did_not_wait``) or nothing waited within 10 s (``never_waited``)."""
    deadline = time.monotonic() + 10
    while not someone_waits_for_a_lock(engine):
        assert thread.is_alive(), did_not_wait
        assert time.monotonic() < deadline, never_waited
        time.sleep(0.02)


def second_waits_for_first(
    sessions: Callable[[], Session],
    engine: Engine,
    first: Callable[[Session], None],
    second: Callable[[Session], None],
) -> BaseException | None:
    """``first`` runs and holds its transaction; ``second`` starts in another thread and must
    wait for its lock; then ``first`` commits. What ``second`` raised, or None."""
    outcome: list[BaseException | None] = [None]

    def run_second() -> None:
        with sessions() as db:
            try:
                second(db)
                db.commit()
            except BaseException as error:  # noqa: BLE001  (reported to the caller)
                db.rollback()
                outcome[0] = error

    with sessions() as db:
        first(db)
        db.flush()
        thread = threading.Thread(target=run_second)
        thread.start()
        until_it_waits_for_a_lock(
            engine,
            thread,
            did_not_wait="the second change did not wait",
            never_waited="the second change never waited for the first",
        )
        db.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome[0]
