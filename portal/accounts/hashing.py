"""argon2-cffi hashes of keys that the browser derives (the auth key, the recovery auth key).

The inputs are 256-bit random-looking keys, not passwords: the browser already ran Argon2id on
the password. The server-side hash only stops someone with a copy of the database from using the
stored verifier to sign in, so moderate parameters are enough; tests use the cheapest ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.settings import AuthHashProfile


def make_hasher(profile: AuthHashProfile) -> PasswordHasher:
    if profile == "test":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_key(hasher: PasswordHasher, key: bytes) -> str:
    return hasher.hash(key)


def verify_key(hasher: PasswordHasher, stored_hash: str, key: bytes) -> bool:
    try:
        return hasher.verify(stored_hash, key)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class DummyVerifier:
    """Verifies against a throwaway hash so an unknown name costs the same time as a known one."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._hash = hasher.hash(b"portal/v1/no-such-account")

    def burn(self, key: bytes) -> None:
        verify_key(self._hasher, self._hash, key)


T = TypeVar("T")


def default_slots() -> int:
    """One argon2 at a time per core this process may use, less one (at least one): a burst
    of sign-ins never has every core, so pages always find one free, whatever their
    priority. Two server processes on two cores still hash on both."""
    return max(1, len(os.sched_getaffinity(0)) - 1)


# Hashing threads run at this nice value (Linux schedules each thread on its own): when
# the cores are busy, serving pages comes first and argon2 takes what is left.
HASHING_NICE = 10


def _lower_priority() -> None:
    # On Linux, PRIO_PROCESS with a thread id sets that thread's own nice value.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


class HashingSlots:
    """Where argon2 runs: in ``slots`` threads of its own (one per core but one) at a lower
    priority than serving pages, awaited by the event loop and never inside a database
    transaction (web.py's ``Ctx.after_hashing``).

    Each hash takes tens of milliseconds of a core. Run in the request thread pool, 50 sign-ins
    at once would take every thread while other pages wait; run inside a transaction, they
    would hold SQLite's write lock (or a PostgreSQL row) for as long. Here a burst of sign-ins
    queues for a slot without holding a request thread, a connection or a lock, and while it
    runs, pages still get the cores first.
    """

    def __init__(self, slots: int | None = None) -> None:
        self.slots = slots or default_slots()
        self._threads = ThreadPoolExecutor(
            max_workers=self.slots, thread_name_prefix="argon2", initializer=_lower_priority
        )

    async def run(self, work: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._threads.submit(work))

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
