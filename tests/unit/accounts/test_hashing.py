"""argon2 in its own slots (portal/accounts/hashing.py): never more at once than the slots,
off the event loop and below the priority of serving pages, so a burst of sign-ins neither
takes every request thread nor the cores pages need."""

from __future__ import annotations

import os
import threading
import time

import anyio

from portal.accounts.hashing import (
    HASHING_NICE,
    HashingSlots,
    default_slots,
    make_hasher,
    verify_key,
)
from tests.support.loops import run_in_new_loop


def test_no_more_hashes_run_at_once_than_there_are_slots() -> None:
    slots = HashingSlots(2)
    hasher = make_hasher("production")
    stored = hasher.hash(b"k" * 32)
    lock = threading.Lock()
    running = 0
    most = 0
    loop_thread: list[int] = []
    work_threads: set[int] = set()
    priorities: set[int] = set()

    def work() -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            work_threads.add(threading.get_ident())
            priorities.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        try:
            time.sleep(0.02)  # long enough for the others to try to start meanwhile
            return verify_key(hasher, stored, b"k" * 32)
        finally:
            with lock:
                running -= 1

    results: list[bool] = []

    async def burst() -> None:
        loop_thread.append(threading.get_ident())

        async def one() -> None:
            results.append(await slots.run(work))

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(one)

    run_in_new_loop(burst)
    assert results == [True] * 8
    assert most == 2
    assert loop_thread[0] not in work_threads
    # Below serving pages (nice 0 here), so that pages get the cores first.
    assert min(priorities) >= HASHING_NICE


def test_hashing_leaves_a_core_for_pages() -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_slots() == max(1, cores - 1)
    assert HashingSlots().slots >= 1
