"""Reading requests on the event loop on PostgreSQL: each runs in a greenlet, and whenever the
driver would wait for the database server, the loop waits for it instead.

A page's handler is synchronous (the driver, sync SQLAlchemy). On SQLite a read is a read of a
local file and runs on the loop as it is (web.endpoint). On PostgreSQL each statement waits for
the server's answer, and the loop must serve other requests meanwhile. :func:`run` runs the
request's work in a greenlet on the loop's own thread; when psycopg would block on its socket,
:class:`LoopConnection` hands the wait to the loop (``add_reader``) and switches back to it,
and the loop switches to the greenlet again once the socket is ready. So every request's
Python runs on the one thread, nothing passes the GIL between threads, and no request waits
for a thread to be woken: with a few reading threads instead, the loop's thread and theirs
took the GIL from each other at every step on two cores (bench/README.md, "Reading requests wait
for PostgreSQL on the event loop").

What keeps the loop from ever waiting:

- Only connections made ready for it (``LoopConnection.on_loop``, set by db.make_read_engine
  once a connection is set up) hand their waits over, and only from a request's greenlet: the
  same connection in a thread (a slow reader's), or any other connection, waits as psycopg does.
- The pool never makes the loop wait for a connection: web.endpoint lets at most
  web.READS_AT_ONCE requests run here at once, fewer than db.make_read_engine's pool keeps.
- A new connection (the first requests, and each one again after db.PG_POOL_RECYCLE_SECONDS) is
  opened in a thread (:func:`blocking`): a database server out of reach must not stop the loop
  for the length of a TCP timeout.
- A handler that waits on anything else (files, the object store, a long report) says
  ``endpoint(threads=True)`` and runs in a thread, as on SQLite.

The work runs in a copy of the awaiting task's context, as a trip to a thread does: what the
request set in a context variable is seen there.

Cancellation: if the awaiting task is cancelled, the work still runs to its end (it commits or
rolls back, and its connection goes back to the pool) and its answer is dropped; the task is
cancelled then.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import psycopg
import psycopg.errors
from greenlet import GreenletExit, getcurrent, greenlet
from psycopg import waiting
from psycopg.abc import Transformer as RowTransformer
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import execute
from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult

T = TypeVar("T")

_WAIT_R = waiting.Wait.R
_WAIT_W = waiting.Wait.W
_AUTO = PyFormat.AUTO
_FATAL_ERROR = ExecStatus.FATAL_ERROR
_EXPECTED = frozenset({ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK})


class _Request(greenlet):
    """A greenlet that runs reading requests' work, one request at a time (:func:`run`; its
    parent is the loop's greenlet), and is parked between them for the next.

    A new greenlet for each request cost about 8 µs of CPU, most of it the system's: its first
    frame takes a 16 KiB stack chunk of its own (an ``mmap``) and its end gives it back
    (``munmap``), with the page faults between (bench/README.md, "The loop's trip to the
    database"). A parked greenlet keeps its chunk, and nothing of the request it ran.
    """


class _Finished:
    """What a request's greenlet hands back when the work has ended: its value or its error."""

    __slots__ = ("error", "value")

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None


def _serve(work: Callable[[], Any]) -> None:
    """A request greenlet's life: run each work it is given, hand back how it ended, wait for
    the next. Only GreenletExit (the greenlet itself collected) ends it."""
    while True:
        finished = _Finished()
        try:
            finished.value = work()
        except GreenletExit:
            raise
        except BaseException as error:  # noqa: BLE001  (handed to run(), which raises it)
            finished.error = error
        work = _no_work  # nothing of the request kept while parked
        work = _loop_side(getcurrent()).switch(finished)


def _no_work() -> None:
    return None


class _Parked(threading.local):
    """Request greenlets waiting for work, per thread (a greenlet runs only on the thread that
    made it; each test's app may run its loop on a thread of its own)."""

    def __init__(self) -> None:
        self.requests: list[_Request] = []


_PARKED = _Parked()
# More than web.READS_AT_ONCE, as a bound: a request gives its greenlet back when it ends.
_PARKED_AT_MOST = 16


def in_request() -> bool:
    """Whether this code runs in a request's greenlet (:func:`run`) on the loop."""
    return type(getcurrent()) is _Request


def blocking(call: Callable[[], T]) -> T:
    """``call()``, in a thread when asked from a request's greenlet (the loop keeps serving);
    otherwise here."""
    here = getcurrent()
    if type(here) is not _Request:
        return call()
    return cast(T, _loop_side(here).switch(call))


# psycopg's own default for how often a wait outside the loop looks again (its value is private):
# taken from its signature rather than repeated here.
_PSYCOPG_INTERVAL: float = inspect.signature(psycopg.Connection.wait).parameters["interval"].default


class LoopConnection(psycopg.Connection[Any]):
    """psycopg's connection, whose waits for the server are the loop's when it is used from a
    request's greenlet and has been made ready for it (``on_loop``); and which runs the
    statements pages run most with the fewest steps (:meth:`rows`)."""

    # Set by the pool's connect hook (db.make_read_engine) once the connection is set up: the
    # pool's first connection runs SQLAlchemy's own set-up statements under a lock, which must
    # never be held across a switch to the loop.
    on_loop = False
    # For rows(): made at its first call (psycopg's own connection has a ``_prepared``).
    _rows_transformer: RowTransformer | None = None
    _rows_prepared: dict[tuple[bytes, tuple[int, ...]], bytes] | None = None

    def rows(self, sql: bytes, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Every row of the SELECT ``sql`` (PostgreSQL's numbered parameters) for ``params``,
        as a cursor would give them, on this connection in autocommit.

        A cursor (made and closed for each statement) walks psycopg's general path in Python:
        its query object, its prepared-statement bookkeeping, its result checks: for the
        session's statement 184 µs of CPU in a request, against 112 µs this way
        (bench/README.md, "Reading requests on PostgreSQL without a cursor").
        Here the statement is prepared once per connection and types of parameters, as psycopg
        would prepare it, and then each run is libpq's send and psycopg's own fetch, waits and
        row loaders (C), with its errors raised as psycopg raises them.
        """
        if not self.autocommit:
            raise psycopg.ProgrammingError("rows() runs statements in autocommit only")
        transformer = self._rows_transformer
        if transformer is None:
            transformer = self._rows_transformer = Transformer(self)
        prepared = self._rows_prepared
        if prepared is None:
            prepared = self._rows_prepared = {}
        dumped = transformer.dump_sequence(params, [_AUTO] * len(params))
        types = transformer.types or ()
        formats = transformer.formats
        pgconn = self.pgconn
        name = prepared.get((sql, types))
        if name is None:
            name = f"portal_{len(prepared)}".encode()
            pgconn.send_prepare(name, sql, param_types=types)
            self._checked(self.wait(execute(pgconn)))
            prepared[sql, types] = name
        pgconn.send_query_prepared(name, dumped, param_formats=formats)
        result = self._checked(self.wait(execute(pgconn)))
        transformer.set_pgresult(result)
        return transformer.load_rows(0, result.ntuples, tuple)

    def _checked(self, results: list[PGresult]) -> PGresult:
        """The last of ``results``, each checked as psycopg's cursor checks them."""
        if not results:
            raise psycopg.InternalError("got no result from the query")
        for result in results:
            if result.status == _FATAL_ERROR:
                raise psycopg.errors.error_from_result(result, encoding=self.info.encoding)
            if result.status not in _EXPECTED:
                raise psycopg.InternalError(f"unexpected result status {result.status}")
        return results[-1]

    def wait(
        self,
        gen: Any,
        interval: float = _PSYCOPG_INTERVAL,
        timeout: float | None = None,
    ) -> Any:
        here = getcurrent()
        if not self.on_loop or timeout is not None or type(here) is not _Request:
            return super().wait(gen, interval, timeout)
        loop_side = _loop_side(here)
        fileno = self.pgconn.socket
        try:
            state = next(gen)
            while True:
                state = gen.send(loop_side.switch((fileno, state)))
        except StopIteration as done:
            return done.value
        except OSError as error:  # as psycopg's own waits say it
            raise psycopg.OperationalError("connection socket closed") from error


def _loop_side(request: greenlet) -> greenlet:
    # The greenlet that started the request's (run's, on the loop): a request's always has one.
    return cast(greenlet, request.parent)


async def run(work: Callable[[], T]) -> T:
    """``work()`` in a greenlet on this loop, its waits for the database served here; its
    result (or exception) back here."""
    loop = asyncio.get_running_loop()
    parked = _PARKED.requests
    request = parked.pop() if parked else _Request(_serve)
    here = getcurrent()
    if request.parent is not here:
        request.parent = here
    request.gr_context = contextvars.copy_context()
    cancelled: asyncio.CancelledError | None = None
    thread_call: asyncio.Future[Any] | None = None
    # What the greenlet asks of the loop when it switches here: a socket to wait for (its file
    # number and psycopg's Wait state) or a call to make in a thread; once the work has ended,
    # how (_Finished).
    asked: Any = request.switch(work)
    while type(asked) is not _Finished:
        try:
            if isinstance(asked, tuple):
                reply = await _socket_ready(loop, *asked)
            else:
                if thread_call is None:
                    thread_call = loop.run_in_executor(None, asked)
                # Shielded: a cancelled request still takes what the thread gives.
                reply = await asyncio.shield(thread_call)
                thread_call = None
        except asyncio.CancelledError as error:
            cancelled = error
            continue  # the same wait again: the work runs to its end (the docstring)
        except BaseException as error:  # noqa: BLE001  (raised in the work, where it waited)
            thread_call = None
            asked = request.throw(error)
            continue
        asked = request.switch(reply)
    request.gr_context = None
    if len(parked) < _PARKED_AT_MOST:
        parked.append(request)
    value, failure = asked.value, asked.error
    asked.value = asked.error = None  # the parked greenlet's frame still holds it
    if failure is not None:
        try:
            raise failure
        finally:
            del failure  # not kept alive by this frame in its own traceback
    if cancelled is not None:
        raise cancelled
    return cast(T, value)


async def _socket_ready(loop: asyncio.AbstractEventLoop, fileno: int, state: int) -> int:
    """Wait until the socket is ready as psycopg's ``state`` asks; psycopg's Ready flags."""
    future: asyncio.Future[int] = loop.create_future()

    def ready(flag: int) -> None:
        if not future.done():
            future.set_result(flag)

    reads = bool(state & _WAIT_R)
    writes = bool(state & _WAIT_W)
    if reads:
        loop.add_reader(fileno, ready, waiting.READY_R)
    if writes:
        loop.add_writer(fileno, ready, waiting.READY_W)
    try:
        return await future
    finally:
        if reads:
            loop.remove_reader(fileno)
        if writes:
            loop.remove_writer(fileno)
