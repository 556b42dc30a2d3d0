"""The threads that reading requests run in: one hop from the event loop and back, kept lean.

A page's handler is synchronous (sync SQLAlchemy, the driver) and must not block the event loop,
so each request makes one trip to a worker thread and back. anyio's ``to_thread.run_sync``,
which Starlette uses, pays on every trip for a capacity limiter's token, a cancel scope, a copy
of the context, a ``queue.Queue`` (a lock and a condition) per worker and a thread-safe
callback through its own bookkeeping: 103 against 51 us of CPU a trip measured alone, and on
a live uvicorn under 16 clients 0.08-0.12 against 0.02-0.03 ms a request, for a loop future
settled from a thread pulling work off a ``SimpleQueue`` (bench/README.md, "A signed-in page,
seventh round").

:class:`ReadingThreads` is that lean trip, for requests that only read, on PostgreSQL (on SQLite
they run on the event loop: web.endpoint says why). It has a few threads
(web.READING_THREADS): Python runs one at a time, a thread helps only while another waits for
the database, and many of them ready at once took the GIL from each other. Each reading
request holds a pooled connection for its whole run; more reads than threads wait in the
queue, holding neither. Writing requests, and reading ones that wait on something else or read
for long (``endpoint(threads=True)``), keep anyio's threads and limiters of their own
(web.WRITERS_PER_PROCESS, web.SLOW_READERS_PER_PROCESS).

The work runs in a copy of the awaiting task's context, as anyio's trip does: what the request
set in a context variable is seen in its thread (a copy is a constant-time snapshot, not a
deep copy).

Cancellation: if the awaiting task is cancelled, the work still runs to its end in its thread
(it commits or rolls back its own transaction and closes it), and its answer is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

# A job: the loop to answer on, the future to settle there, the work.
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class ReadingThreads:
    """``count`` threads, started at the first request, stopped by :meth:`close`."""

    def __init__(self, count: int, *, name: str = "portal-reader") -> None:
        if count < 1:
            raise ValueError("at least one thread")
        self.count = count
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closed = False

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in one of the threads; its result (or exception) back here."""
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, partial(contextvars.copy_context().run, work)))
        return await future

    def _start(self) -> None:
        if self._closed:
            raise RuntimeError("the reading threads were closed")
        for number in range(self.count):
            thread = threading.Thread(
                target=self._serve, name=f"{self._name}-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _serve(self) -> None:
        take = self._jobs.get
        while True:
            job = take()
            if job is None:
                return
            _do(*job)
            # Not kept while waiting for the next job: the request's objects go now.
            del job

    def close(self) -> None:
        """Stop the threads once the jobs already queued are done (without waiting for them)."""
        self._closed = True
        for _thread in self._threads:
            self._jobs.put(None)
        self._threads.clear()


def _do(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], work: Callable[[], Any]
) -> None:
    try:
        result = work()
    except BaseException as error:  # noqa: BLE001  (handed to the awaiting task as it is)
        _settle_soon(loop, future, None, error)
    else:
        _settle_soon(loop, future, result, None)


def _settle_soon(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: object,
    error: BaseException | None,
) -> None:
    # RuntimeError: the loop has closed, so nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: object, error: BaseException | None) -> None:
    if future.cancelled():  # the request went away (see the module's docstring)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
