"""The reading requests' threads (portal/threads.py): one hop there and back, the answer or the
exception handed back, no more threads than asked for, and stopped at the end."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from functools import partial

import pytest

from portal.threads import ReadingThreads
from tests.support.loops import run_in_new_loop


def test_work_runs_in_one_of_the_threads_and_its_result_comes_back() -> None:
    threads = ReadingThreads(2, name="test-reader")

    async def main() -> tuple[str, str]:
        return await threads.run(
            lambda: threading.current_thread().name
        ), threading.current_thread().name

    try:
        worker, caller = run_in_new_loop(main)
    finally:
        threads.close()
    assert worker.startswith("test-reader-")
    assert worker != caller


_REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


def test_the_work_sees_the_callers_context_variables_and_cannot_change_them() -> None:
    """As a trip through anyio's threads does: what a request set (a statement counter in the
    tests, a request id in a log) is seen in its thread; what the work sets stays there."""
    threads = ReadingThreads(1, name="test-reader")

    def work() -> str:
        seen = _REQUEST.get()
        _REQUEST.set("set in the thread")
        return seen

    async def main() -> tuple[str, str]:
        _REQUEST.set("request 7")
        seen = await threads.run(work)
        return seen, _REQUEST.get()

    try:
        seen, after = run_in_new_loop(main)
    finally:
        threads.close()
    assert seen == "request 7"
    assert after == "request 7"


def test_an_exception_in_the_work_is_raised_to_the_caller() -> None:
    threads = ReadingThreads(1)

    def fails() -> None:
        raise LookupError("no such row")

    async def main() -> None:
        await threads.run(fails)

    try:
        with pytest.raises(LookupError):
            run_in_new_loop(main)
    finally:
        threads.close()


def test_more_work_than_threads_waits_its_turn_and_all_of_it_answers() -> None:
    threads = ReadingThreads(3, name="turns")
    running = 0
    most = 0
    lock = threading.Lock()

    def work(number: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return number

    async def main() -> list[int]:
        return list(await asyncio.gather(*(threads.run(partial(work, n)) for n in range(20))))

    try:
        assert run_in_new_loop(main) == list(range(20))
    finally:
        threads.close()
    assert most == 3


def test_a_cancelled_caller_leaves_the_work_to_finish_in_its_thread() -> None:
    threads = ReadingThreads(1)
    finished = threading.Event()

    def slow() -> str:
        time.sleep(0.05)
        finished.set()
        return "done"

    async def main() -> str:
        task = asyncio.ensure_future(threads.run(slow))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The thread goes on to the next job once the cancelled one has run to its end.
        return await threads.run(lambda: "next")

    try:
        assert run_in_new_loop(main) == "next"
    finally:
        threads.close()
    assert finished.is_set()


def test_closing_stops_the_threads_and_refuses_new_work() -> None:
    threads = ReadingThreads(2, name="closing")

    async def once() -> None:
        await threads.run(lambda: None)

    run_in_new_loop(once)
    started = [t for t in threading.enumerate() if t.name.startswith("closing-")]
    assert len(started) == 2
    threads.close()
    for thread in started:
        thread.join(timeout=5)
        assert not thread.is_alive()
    with pytest.raises(RuntimeError):
        run_in_new_loop(once)


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReadingThreads(0)
