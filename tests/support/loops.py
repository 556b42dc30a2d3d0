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


def run_in_new_loop(main: Callable[[], Awaitable[T]]) -> T:
    """``main()`` run by ``asyncio.run`` in a new thread; its result, or its exception raised
    here."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        async def wrapped() -> T:
            return await main()

        try:
            outcome.append(asyncio.run(wrapped()))
        except BaseException as error:  # noqa: BLE001  (raised again in the test's thread)
            failure.append(error)

    thread = threading.Thread(target=run, name="test-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
