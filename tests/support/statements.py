"""Counting the SQL statements one request runs, in process (tests/http/test_pages_at_scale.py
and bench/pages.py).

``counting(app)`` wraps the ASGI app: each request runs with a counter in a context variable,
which Starlette carries into the worker thread a sync endpoint runs in; a listener on every
engine counts a statement only when that variable is set. So the periodic jobs the app starts
(a task of their own, begun before any request) are never counted with a page. The counter also
adds up how long the statements took as the driver saw them (sent, run by the database,
answered): bench/pages.py prints it beside the request's time, to tell the database's share of
a page from the portal's own. A statement run on the driver is timed to its last row fetched;
one run through SQLAlchemy until the driver's execute returns (on SQLite, rows found after
the first are found as they are fetched, and that time goes to the portal's share).
"""

from __future__ import annotations

import contextvars
import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.db import _CompiledQuery


@dataclass
class Counter:
    # Each statement as it was sent, to explain again (``explained``): its SQL and the driver's
    # parameters, or a driver query and the values it was given.
    sent: list[tuple[Any, Any]] = field(default_factory=list)
    sql_seconds: float = 0.0
    _started: float = 0.0

    @property
    def statements(self) -> list[str]:
        """The SQL of each statement, in order."""
        return [sql if isinstance(sql, str) else sql.sql for sql, _values in self.sent]

    @property
    def count(self) -> int:
        return len(self.sent)


_CURRENT: contextvars.ContextVar[Counter | None] = contextvars.ContextVar(
    "statements_counter", default=None
)


class Counting:
    """The app, with the statements of the last request kept in ``last``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = Counter()
        token = _CURRENT.set(counter)
        try:
            await self.app(scope, receive, send)
        finally:
            _CURRENT.reset(token)
            self.last = counter


def _count(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    counter = _CURRENT.get()
    if counter is not None:
        counter.sent.append((statement, _params))
        counter._started = time.perf_counter()


def _timed(
    _conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    counter = _CURRENT.get()
    if counter is not None:
        counter.sql_seconds += time.perf_counter() - counter._started


def _counted_on_driver(execute: Any) -> Any:
    """``_CompiledQuery._execute`` (or ``_lean_rows``: every statement run on the driver goes
    through one of the two), counting the statement as the engine's listener does: statements
    run on the driver (db.DriverQuery: the session's, the facilitator's home's) pass no engine
    event."""

    def counted(self: Any, driver: Any, parameters: Any) -> Any:
        counter = _CURRENT.get()
        if counter is not None:
            counter.sent.append((self, dict(parameters)))
        return execute(self, driver, parameters)

    return counted


def _timed_on_driver(read: Any) -> Any:
    """``_CompiledQuery.first`` or ``all``, timed from the statement's sending to its last row
    fetched (and converted): SQLite runs a statement as its rows are fetched, so timing only
    the execute hid most of a statement that returns rows late (the facilitator's home's, 76 ms
    at full size, had shown as 9)."""

    def timed(self: Any, driver: Any, parameters: Any) -> Any:
        counter = _CURRENT.get()
        if counter is None:
            return read(self, driver, parameters)
        started = time.perf_counter()
        try:
            return read(self, driver, parameters)
        finally:
            counter.sql_seconds += time.perf_counter() - started

    return timed


@contextmanager
def counting_statements() -> Iterator[None]:
    """While inside, statements run for a request of a ``Counting`` app are counted (and
    timed), those run on the driver (db.DriverQuery) included."""
    execute, first, every = _CompiledQuery._execute, _CompiledQuery.first, _CompiledQuery.all
    lean = _CompiledQuery._lean_rows
    event.listen(Engine, "before_cursor_execute", _count)
    event.listen(Engine, "after_cursor_execute", _timed)
    _CompiledQuery._execute = _counted_on_driver(execute)  # type: ignore[method-assign]  # counted, then run as it was
    _CompiledQuery._lean_rows = _counted_on_driver(lean)  # type: ignore[method-assign]  # counted, then run as it was
    _CompiledQuery.first = _timed_on_driver(first)  # type: ignore[method-assign]  # timed, then run as it was
    _CompiledQuery.all = _timed_on_driver(every)  # type: ignore[method-assign]  # timed, then run as it was
    try:
        yield
    finally:
        _CompiledQuery._execute = execute  # type: ignore[method-assign]  # as it was
        _CompiledQuery._lean_rows = lean  # type: ignore[method-assign]  # as it was
        _CompiledQuery.first = first  # type: ignore[method-assign]  # as it was
        _CompiledQuery.all = every  # type: ignore[method-assign]  # as it was
        event.remove(Engine, "after_cursor_execute", _timed)
        event.remove(Engine, "before_cursor_execute", _count)


def explained(driver: Any, dialect: str, sent: tuple[Any, Any]) -> list[str]:
    """How the database means to run a statement a request sent (``Counter.sent``), on the
    same database through ``driver`` (a DB-API connection): the lines of its EXPLAIN on
    PostgreSQL, or the details of its EXPLAIN QUERY PLAN on SQLite."""
    explain = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    statement, parameters = sent
    if isinstance(statement, _CompiledQuery):
        query = copy.copy(statement)
        query.sql = explain + statement.sql
        cursor = query._execute(driver, parameters)
    else:
        cursor = driver.cursor()
        cursor.execute(explain + statement, parameters)
    try:
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [str(row[0]) if dialect == "postgresql" else str(row[3]) for row in rows]
