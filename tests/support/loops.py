"""Running a coroutine to its end from a synchronous test.

A browser test earlier in the same pytest worker leaves Playwright's event loop marked as running
in the main thread (its sync API keeps one there), and ``asyncio.run`` and ``anyio.run`` refuse
to start a second loop in that thread. So each run gets a thread of its own, with its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def run_in_new_loop(
    main: Callable[[], Awaitable[T]],
    *,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    timeout: float | None = None,
) -> T:
    """``main()`` run to its end on a new loop (asyncio's own, or ``loop_factory``'s: uvloop's,
    as the server runs) in a new thread; its result, or its exception raised here. With
    ``timeout``, a loop still running after that many seconds fails the test rather than stop
    it (the thread is left to the process's end)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        async def wrapped() -> T:
            return await main()

        try:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                outcome.append(runner.run(wrapped()))
        except BaseException as error:  # noqa: BLE001  (raised again in the test's thread)
            failure.append(error)

    thread = threading.Thread(target=run, name="test-loop", daemon=timeout is not None)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the loop was still running after {timeout} s"
    if failure:
        raise failure[0]
    return outcome[0]
