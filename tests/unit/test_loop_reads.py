"""Reads on the event loop (portal/loop_reads.py), against a real PostgreSQL server: while one
read waits for the server the loop serves others, the answer or the exception comes back,
the request's context is seen, a cancelled read still ends cleanly, and only connections made
ready for it, used from a read's greenlet, hand their waits to the loop. Their lean way to run
a statement (LoopConnection.rows) gives what a cursor gives."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import greenlet
import psycopg
import pytest
import uvloop
from sqlalchemy import Engine, text

from portal import loop_reads
from portal.db import ReadTransaction, reading_connections_in_use
from tests.support.loops import run_in_new_loop

T = TypeVar("T")


def _sleep_and_answer(read_engine: Engine, seconds: float, answer: int) -> int:
    """As a reading request reads: in a db.ReadTransaction, on the driver."""
    with ReadTransaction(read_engine) as db:
        row = db.on_driver(
            lambda driver: driver.execute(
                "SELECT %s::int FROM pg_sleep(%s)", (answer, seconds)
            ).fetchone()
        )
        db.commit()
    return int(row[0])


class _Ticks:
    """A timer on the loop, counting every 10 ms while the block runs: it ticks only when the
    loop is free to run it."""

    def __init__(self) -> None:
        self.count = 0
        self._ticking: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Ticks:
        self._ticking = asyncio.create_task(self._tick())
        await asyncio.sleep(0)  # started
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._ticking is not None:
            self._ticking.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.count += 1


def test_while_a_read_waits_for_the_server_the_loop_serves_others(
    pg_read_engine: Engine,
) -> None:
    """Three reads of 0.4 s each take about 0.4 s together, and a timer on the same loop keeps
    ticking meanwhile: none of them holds the loop while the server works."""

    async def main() -> tuple[list[int], float, int]:
        async with _Ticks() as ticks:
            started = time.monotonic()
            answers = await asyncio.gather(
                *(
                    loop_reads.run(partial(_sleep_and_answer, pg_read_engine, 0.4, n))
                    for n in range(3)
                )
            )
            took = time.monotonic() - started
        return list(answers), took, ticks.count

    answers, took, ticks = run_in_new_loop(main)
    assert answers == [0, 1, 2]
    assert took < 1.0  # one after another: 1.2 s
    assert ticks >= 10  # a loop held for 0.4 s at a time would tick about three times


def test_the_read_runs_on_the_loops_own_thread_in_the_callers_context(
    pg_read_engine: Engine,
) -> None:
    request: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")

    def work() -> tuple[str, str, bool]:
        _sleep_and_answer(pg_read_engine, 0, 1)
        return threading.current_thread().name, request.get(), loop_reads.in_request()

    async def main() -> tuple[tuple[str, str, bool], str]:
        request.set("request 7")
        return await loop_reads.run(work), threading.current_thread().name

    (thread, seen, in_request), loop_thread = run_in_new_loop(main)
    assert thread == loop_thread
    assert seen == "request 7"
    assert in_request


class _Answer:
    """A work's answer, to see whether anything still holds it."""


class _Refused(Exception):
    """A work's error, to see whether anything still holds it."""


def test_each_read_takes_a_parked_greenlet_and_leaves_nothing_of_itself_in_it() -> None:
    """A request's greenlet is parked for the next once its work has ended (a new one for each
    cost the system a stack chunk, loop_reads._Request), one for each read at once; the next
    read there sees its own caller's context, and the parked greenlet holds nothing of the
    last: neither its answer, its error nor its context."""
    request: contextvars.ContextVar[object] = contextvars.ContextVar("request", default="none")

    def answer() -> tuple[object, _Answer, object]:
        return greenlet.getcurrent(), _Answer(), request.get()

    def fails() -> None:
        raise _Refused(request.get())

    async def main() -> None:
        request.set("first")
        first, answered, seen = await loop_reads.run(answer)
        assert seen == "first"
        gone = weakref.ref(answered)
        del answered
        assert gone() is None

        request.set("second")
        with pytest.raises(_Refused, match="second") as raised:
            await loop_reads.run(fails)
        error_gone = weakref.ref(raised.value)
        del raised

        held = _Answer()
        work = partial(_sets_and_answers, request, held)
        held_gone = weakref.ref(held)
        await loop_reads.run(work)
        del held, work
        assert held_gone() is None

        request.set("third")
        third, _, seen = await loop_reads.run(answer)
        assert third is first
        assert seen == "third"
        assert error_gone() is None

        async def one_at_a_time() -> object:
            here = await loop_reads.run(greenlet.getcurrent)
            await asyncio.sleep(0)
            return here

        at_once = await asyncio.gather(*(loop_reads.run(_waits_once) for _ in range(3)))
        assert len(set(map(id, at_once))) == 3
        assert first in at_once
        assert await one_at_a_time() in at_once

    run_in_new_loop(main)


def _sets_and_answers(request: contextvars.ContextVar[object], held: _Answer) -> None:
    """A work that holds a value of the request (its closure) and sets one in its context."""
    request.set(held)


def _waits_once() -> object:
    """As a read waiting for the server once: back to the loop until it is called again."""
    here = greenlet.getcurrent()
    loop_reads.blocking(lambda: None)
    return here


def test_an_error_from_the_server_is_raised_to_the_caller_and_the_connection_serves_again(
    pg_read_engine: Engine,
) -> None:
    def fails() -> None:
        with ReadTransaction(pg_read_engine) as db:
            db.on_driver(lambda driver: driver.execute("SELECT 1 / 0"))

    async def main() -> int:
        with pytest.raises(Exception, match="division by zero"):
            await loop_reads.run(fails)
        return await loop_reads.run(lambda: _sleep_and_answer(pg_read_engine, 0, 5))

    assert run_in_new_loop(main) == 5


def test_a_cancelled_read_still_runs_to_its_end_and_gives_its_connection_back(
    pg_read_engine: Engine,
) -> None:
    """As a request whose task is cancelled mid-statement: the statement finishes, the
    transaction ends and the connection goes back to the pool; the task is cancelled then."""
    ended: list[int] = []

    def work() -> None:
        ended.append(_sleep_and_answer(pg_read_engine, 0.3, 9))

    async def main() -> bool:
        task = asyncio.create_task(loop_reads.run(work))
        await asyncio.sleep(0.1)  # waiting for the server now
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    was_cancelled = run_in_new_loop(main)
    assert was_cancelled
    assert ended == [9]
    assert reading_connections_in_use(pg_read_engine) == 0


def test_the_pools_connections_wait_on_the_loop_only_from_a_reads_greenlet(
    pg_read_engine: Engine,
) -> None:
    """The read engine's connections are made ready for the loop once set up; in a thread (a
    slow reader's) the same connection waits as psycopg does, and so does any other
    connection in a read's greenlet."""
    with pg_read_engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, loop_reads.LoopConnection)
        assert driver.on_loop
        # Here, not in a greenlet: an ordinary blocking wait.
        assert connection.execute(text("SELECT 2")).scalar() == 2
    other = loop_reads.LoopConnection.connect(
        pg_read_engine.url.render_as_string(hide_password=False).replace(
            "postgresql+psycopg://", "postgresql://"
        ),
        autocommit=True,
    )
    try:
        assert not other.on_loop

        def blocking_wait() -> float:
            started = time.monotonic()
            other.execute("SELECT pg_sleep(0.3)")
            return time.monotonic() - started

        async def main() -> int:
            async with _Ticks() as ticks:
                await loop_reads.run(blocking_wait)
            return ticks.count

        # Not made ready: the loop was held for the whole statement.
        assert run_in_new_loop(main) <= 1
    finally:
        other.close()


def test_a_new_connection_is_opened_in_a_thread_not_on_the_loop(pg_read_engine: Engine) -> None:
    def work() -> tuple[str, bool]:
        return loop_reads.blocking(lambda: threading.current_thread().name), True

    def here() -> str:
        return loop_reads.blocking(lambda: threading.current_thread().name)

    async def main() -> tuple[str, str]:
        opened_in, _ = await loop_reads.run(work)
        return opened_in, threading.current_thread().name

    opened_in, loop_thread = run_in_new_loop(main)
    assert opened_in != loop_thread
    # Outside a read's greenlet, the call is made where it is asked.
    assert here() == threading.current_thread().name
    # The pool's first connection, opened from a read on the loop: the read answers.
    pg_read_engine.dispose()

    async def first() -> int:
        return await loop_reads.run(lambda: _sleep_and_answer(pg_read_engine, 0, 3))

    assert run_in_new_loop(first) == 3


def test_the_read_pool_opens_its_new_connections_in_a_thread(
    pg_read_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read on the loop that needs a new pooled connection: the pool's ``do_connect`` hook
    (db.make_read_engine) opens it in a thread, and the read then waits for it on the loop."""
    opened_in: list[str] = []
    real_connect = loop_reads.LoopConnection.connect

    def noting_connect(*args: object, **kwargs: object) -> loop_reads.LoopConnection:
        opened_in.append(threading.current_thread().name)
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    # A spy on the real connect (it still opens a real connection), as the hook finds it.
    monkeypatch.setattr(loop_reads.LoopConnection, "connect", noting_connect)
    pg_read_engine.dispose()

    async def main() -> tuple[int, str]:
        answer = await loop_reads.run(lambda: _sleep_and_answer(pg_read_engine, 0, 5))
        return answer, threading.current_thread().name

    answer, loop_thread = run_in_new_loop(main)
    assert answer == 5
    assert opened_in
    assert loop_thread not in opened_in
    pg_read_engine.dispose()


def test_a_connection_refused_in_its_thread_fails_the_read_with_psycopgs_error() -> None:
    """The connection is refused in the thread that opens it: the error comes back to the
    read, as psycopg raised it."""

    def work() -> None:
        loop_reads.blocking(
            lambda: psycopg.connect("postgresql://nobody@127.0.0.1:9/none", connect_timeout=2)
        )

    async def main() -> None:
        await loop_reads.run(work)

    with pytest.raises(psycopg.OperationalError):
        run_in_new_loop(main)


_TYPES = (
    b"SELECT $1::bytea, $2::text, $3::bigint, $4::timestamptz, $5::boolean, $6::int, 1.5::float8"
)


def _on_reading_connection(read_engine: Engine, work: Callable[[Any], T]) -> T:
    with ReadTransaction(read_engine) as db:
        return db.on_driver(work)


def test_rows_gives_what_a_cursor_gives_preparing_each_statement_once_per_connection(
    pg_read_engine: Engine,
) -> None:
    """LoopConnection.rows: the values a cursor reads for the same statement and parameters
    (bytes, text, numbers, an aware time, a boolean, a NULL), every row; each statement
    prepared once per connection and kinds of parameters (a NULL's is another)."""
    at = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    params = [b"\x00\xff", "Zoë", 2**40, at, True, 7]

    def run(driver: Any) -> tuple[Any, ...]:
        assert isinstance(driver, loop_reads.LoopConnection)
        cursor_rows = psycopg.RawCursor(driver).execute(_TYPES.decode(), params).fetchall()
        given = [driver.rows(_TYPES, params) for _ in range(3)]
        with_null = driver.rows(_TYPES, [*params[:5], None])
        many = driver.rows(b"SELECT n FROM generate_series(1, $1::int) AS n", [3])
        none = driver.rows(b"SELECT 1 WHERE $1::int > 1", [0])
        prepared = driver.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'portal_%%'"
        ).fetchone()
        return cursor_rows, given, with_null, many, none, prepared

    cursor_rows, given, with_null, many, none, prepared = _on_reading_connection(
        pg_read_engine, run
    )
    assert given == [cursor_rows] * 3
    assert given[0] == [(b"\x00\xff", "Zoë", 2**40, at, True, 7, 1.5)]
    assert with_null == [(b"\x00\xff", "Zoë", 2**40, at, True, None, 1.5)]
    assert many == [(1,), (2,), (3,)]
    assert none == []
    assert prepared == (4,)  # the first statement twice (a NULL), the other two once


def test_rows_raises_the_servers_error_as_psycopg_does_and_the_connection_reads_on(
    pg_read_engine: Engine,
) -> None:
    def run(driver: Any) -> tuple[Any, ...]:
        with pytest.raises(psycopg.errors.DivisionByZero):
            driver.rows(b"SELECT 1 / $1::int", [0])
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            driver.rows(b"CREATE TABLE nothing_here (n int)", [])
        status = driver.info.transaction_status
        return status, driver.rows(b"SELECT 1 / $1::int", [1])

    status, answer = _on_reading_connection(pg_read_engine, run)
    assert status == psycopg.pq.TransactionStatus.IDLE
    assert answer == [(1,)]


def test_rows_runs_only_in_autocommit(pg_engine: Engine) -> None:
    """In a transaction, psycopg begins it with the first statement of a cursor's: rows()
    would read outside it."""
    conninfo = pg_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with (
        loop_reads.LoopConnection.connect(conninfo) as driver,
        pytest.raises(psycopg.ProgrammingError, match="autocommit"),
    ):
        driver.rows(b"SELECT 1", [])


def test_while_rows_waits_for_the_server_the_loop_serves_others(pg_read_engine: Engine) -> None:
    def work(seconds: float) -> Any:
        return _on_reading_connection(
            pg_read_engine,
            lambda driver: driver.rows(b"SELECT $1::int FROM pg_sleep($2)", [7, seconds]),
        )

    async def main() -> tuple[list[Any], int]:
        async with _Ticks() as ticks:
            answers = await asyncio.gather(*(loop_reads.run(partial(work, 0.4)) for _ in range(2)))
        return list(answers), ticks.count

    answers, ticks = run_in_new_loop(main)
    assert answers == [[(7,)], [(7,)]]
    assert ticks >= 10


# Each of these on asyncio's own loop and on uvloop (the server's).
_ON_BOTH_LOOPS = pytest.mark.parametrize(
    "loop_class", [asyncio.SelectorEventLoop, uvloop.Loop], ids=["asyncio", "uvloop"]
)


@pytest.fixture
def reader_on_loop(pg_engine: Engine) -> Iterator[loop_reads.LoopConnection]:
    """A reading connection in autocommit whose waits are the loop's, as the read pool's."""
    conninfo = pg_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    connection = loop_reads.LoopConnection.connect(conninfo, autocommit=True)
    connection.on_loop = True
    try:
        yield connection
    finally:
        connection.close()


def _end_its_backend(pg_engine: Engine, connection: psycopg.Connection[Any]) -> None:
    """What a restart or an administrator does to ``connection``, from another connection."""
    with pg_engine.connect() as other:
        other.execute(
            text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.info.backend_pid}
        )


@_ON_BOTH_LOOPS
def test_a_read_on_a_connection_the_server_ended_fails_as_psycopg_says_and_never_hangs(
    pg_engine: Engine, reader_on_loop: loop_reads.LoopConnection, loop_class: Callable[[], Any]
) -> None:
    """The server ends an idle connection (a restart, an administrator): the next read there
    sends its statement into a socket the server has closed, and must fail with psycopg's
    error rather than wait for ever, on asyncio's loop and on uvloop (the server's). uvloop
    stops calling back a socket it keeps watching once the peer has closed it and the socket
    was reported readable (tried: a watch kept between waits hung here), which is why each
    wait adds the socket to the loop and removes it after (loop_reads._socket_ready)."""
    connection = reader_on_loop

    async def main() -> None:
        assert await loop_reads.run(partial(connection.rows, b"SELECT 1", [])) == [(1,)]
        _end_its_backend(pg_engine, connection)
        await asyncio.sleep(0.2)  # the server's goodbye has arrived
        with pytest.raises(psycopg.OperationalError):
            await loop_reads.run(partial(connection.rows, b"SELECT 1", []))

    run_in_new_loop(main, loop_factory=loop_class, timeout=30)


@_ON_BOTH_LOOPS
def test_a_read_whose_connection_the_server_ends_while_it_waits_fails_at_once(
    pg_engine: Engine, reader_on_loop: loop_reads.LoopConnection, loop_class: Callable[[], Any]
) -> None:
    """The server ends the connection while a statement waits for its answer (a failover, an
    administrator): the wait, the loop watching the socket, ends with psycopg's error as soon
    as the server's goodbye arrives, on asyncio's loop and on uvloop, and never lasts as long
    as the statement would have."""
    connection = reader_on_loop

    def end_it_soon() -> None:
        time.sleep(0.3)  # the statement is on its way, its greenlet waiting on the loop
        _end_its_backend(pg_engine, connection)

    async def main() -> None:
        ending = asyncio.get_running_loop().run_in_executor(None, end_it_soon)
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            await loop_reads.run(partial(connection.rows, b"SELECT 1 FROM pg_sleep(20)", []))
        assert time.monotonic() - started < 10
        await ending

    run_in_new_loop(main, loop_factory=loop_class, timeout=30)
