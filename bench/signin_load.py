"""Other pages' latency during a burst of sign-ins with real argon2, through the real server.

Starts ``portal serve`` (uvicorn, ``--workers 2``, the production argon2 profile for the
server-side hash of the browser-derived key) on SQLite and on PostgreSQL (a throwaway server
started as the tests start theirs: tests/support/postgres.py), makes a facilitator and
``--people`` staff accounts over the HTTP API (tests/factories.py), then measures the latency
of signed-in pages (/account, /home, /api/session/status, in turn) read by 4 clients one
request after another:

- alone, for ``--seconds``;
- while ``--signins`` clients sign in over and over at once (each a fresh connection: GET
  /healthz for the CSRF cookie, then POST /api/sign-in), for as long.

It prints p50 and p95 of the pages in both runs and the sign-ins per second. Target: p95 of
the pages during the sign-ins <= 100 ms. Client and server share this machine's cores: the
clients' own time is in the figures.

    .venv/bin/python bench/signin_load.py [--seconds 10] [--signins 50] [--people 10]
                                          [--databases sqlite,postgresql] [--workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing import Queue
from pathlib import Path

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from portal import protocol
from portal.accounts.hashing import HASHING_NICE
from portal.accounts.models import Role
from portal.db import make_engine, upgrade
from portal.settings import Settings
from tests.factories import Person, Portal
from tests.support.cpu import (
    children,
    cpu_seconds_if_running,
    machine_busy_seconds,
    thread_times,
)
from tests.support.live_server import LiveServer, start_live_server
from tests.support.postgres import throwaway_database

PAGES = ("/account", "/home", "/api/session/status")
READERS = 4


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def read_pages(base_url: str, cookies: dict[str, str], stop: threading.Event) -> list[float]:
    """One reader: the pages in turn, one request after another, until ``stop``."""
    times: list[float] = []
    with httpx.Client(base_url=base_url, cookies=cookies, timeout=60) as client:
        number = 0
        while not stop.is_set():
            path = PAGES[number % len(PAGES)]
            number += 1
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
    return times


def sign_in_repeatedly(base_url: str, body: dict[str, str], stop: threading.Event) -> int:
    """One client signing in over and over, each time as a newcomer (no cookies). One HTTP
    client for all of them: a new one per sign-in cost this process about 40 ms of CPU each
    (mostly building a TLS context it never used), which took the cores from the server being
    measured; a browser keeps its connection too."""
    done = 0
    with httpx.Client(base_url=base_url, timeout=120) as client:
        while not stop.is_set():
            client.cookies.clear()
            client.get("/healthz")
            response = client.post(
                "/api/sign-in", json=body, headers={"X-CSRF-Token": client.cookies["portal_csrf"]}
            )
            assert response.status_code == 200, response.text
            done += 1
    return done


def sign_in_load(
    base_url: str, bodies: list[dict[str, str]], signins: int, seconds: float, out: Queue[int]
) -> None:
    """In a process of its own (so that the readers' timings do not wait for this process's
    GIL): ``signins`` clients signing in over and over for ``seconds``; puts how many did."""
    stop = threading.Event()
    counts: list[int] = []

    def signer(body: dict[str, str]) -> None:
        counts.append(sign_in_repeatedly(base_url, body, stop))

    threads = [
        threading.Thread(target=signer, args=(bodies[i % len(bodies)],)) for i in range(signins)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    out.put(sum(counts) if len(counts) == signins else -1)


@dataclass
class CpuSplit:
    """Where the machine's CPU went while pages were read: the server's request handling (nice
    0), its argon2 threads (nice HASHING_NICE), the sign-in clients, the page readers (this
    process) and the rest (the database server, and anything else running on the machine)."""

    wall: float = 0.0
    server: float = 0.0
    argon2: float = 0.0
    signin_clients: float = 0.0
    readers: float = 0.0
    machine: float = 0.0

    @staticmethod
    def sample(server_pid: int, load_pid: int | None) -> CpuSplit:
        split = CpuSplit(wall=time.monotonic(), machine=machine_busy_seconds())
        for pid in [server_pid, *children(server_pid)]:
            # The process's own count keeps the time of threads that have ended; its argon2
            # threads (at their nice value) live as long as it does.
            split.server += cpu_seconds_if_running(pid)
            split.argon2 += sum(cpu for nice, cpu in thread_times(pid) if nice == HASHING_NICE)
        split.server -= split.argon2
        if load_pid is not None:
            split.signin_clients = cpu_seconds_if_running(load_pid)
        split.readers = cpu_seconds_if_running(os.getpid())
        return split

    def __sub__(self, earlier: CpuSplit) -> CpuSplit:
        return CpuSplit(
            *(getattr(self, name) - getattr(earlier, name) for name in self.__dataclass_fields__)
        )

    def describe(self) -> str:
        rest = self.machine - self.server - self.argon2 - self.signin_clients - self.readers
        cores = os.cpu_count() or 1
        return (
            f"CPU s of {cores * self.wall:.1f} ({cores} cores x {self.wall:.1f} s): machine busy"
            f" {self.machine:.1f}; server requests {self.server:.1f}, argon2 (nice"
            f" {HASHING_NICE}) {self.argon2:.1f}, sign-in clients {self.signin_clients:.1f},"
            f" page readers {self.readers:.1f}, rest (database server, other processes)"
            f" {max(rest, 0.0):.1f}"
        )


def measure(
    server: LiveServer,
    cookies: dict[str, str],
    bodies: list[dict[str, str]],
    seconds: float,
    signins: int,
) -> tuple[list[float], float, CpuSplit]:
    """Page latencies (seconds) with ``signins`` clients signing in meanwhile; sign-ins/s;
    where the CPU went while the pages were read."""
    stop = threading.Event()
    page_results: list[list[float]] = []

    def reader() -> None:
        page_results.append(read_pages(server.base_url, cookies, stop))

    done: Queue[int] = multiprocessing.Queue()
    load = multiprocessing.Process(
        target=sign_in_load, args=(server.base_url, bodies, signins, seconds, done)
    )
    if signins:
        load.start()
        time.sleep(1)  # let the burst start before the readers do
    load_pid = load.pid if signins else None
    before = CpuSplit.sample(server.process.pid, load_pid)
    readers = [threading.Thread(target=reader) for _ in range(READERS)]
    for thread in readers:
        thread.start()
    time.sleep(seconds - 1 if signins else seconds)
    stop.set()
    for thread in readers:
        thread.join()
    split = CpuSplit.sample(server.process.pid, load_pid) - before
    signed_in = 0
    if signins:
        signed_in = done.get()
        load.join()
        assert signed_in >= 0, "a sign-in client failed"
    assert len(page_results) == READERS, "a page reader failed"
    return [t for times in page_results for t in times], signed_in / seconds, split


def run(kind: str, seconds: float, signins: int, people: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as temp, throwaway_database(kind, Path(temp)) as url:
        data_dir = Path(temp) / "data"
        data_dir.mkdir()
        upgrade(url)
        server = start_live_server(
            data_dir=data_dir,
            database_url=url,
            env_overrides={
                "PORTAL_AUTH_HASH_PROFILE": "production",
                # Every sign-in here succeeds, but each counts as a failure of its name while
                # its key is checked, and several of one name are in flight at once here.
                "PORTAL_SIGNIN_MAX_FAILURES_PER_ACCOUNT": "100000",
                "PORTAL_SIGNIN_MAX_FAILURES_PER_ADDRESS": "100000",
            },
            label="bench",
            serve_args=["--workers", str(workers)],
        )
        engine = make_engine(url)
        try:
            settings = Settings.from_env(
                {k: v for k, v in server.env.items() if k.startswith("PORTAL_")}
            )
            with httpx.Client(base_url=server.base_url, timeout=120) as client:
                portal = Portal(client, settings, engine)
                reader = portal.person(Role.FACILITATOR)
                cookies = dict(reader.jar.items())
                staff: list[Person] = [portal.person(Role.FACILITATOR) for _ in range(people)]
                bodies = [
                    {
                        "sign_in_name": person.name,
                        "auth_key": protocol.b64encode(
                            person.auth_key_for(person.name, person.password)
                        ),
                    }
                    for person in staff
                ]
            alone, _, alone_cpu = measure(server, cookies, bodies, seconds, 0)
            loaded, rate, loaded_cpu = measure(server, cookies, bodies, seconds, signins)
        finally:
            engine.dispose()
            server.stop()
    print(f"{kind}, {workers} server workers, {READERS} page readers, {seconds:.0f} s each:")
    for label, times, cpu in (
        ("alone", alone, alone_cpu),
        (f"during {signins} sign-ins at once", loaded, loaded_cpu),
    ):
        print(
            f"  pages {label}: p50 {statistics.median(times) * 1000:.1f} ms,"
            f" p95 {percentile(times, 0.95) * 1000:.1f} ms ({len(times)} requests)"
        )
        print(f"    {cpu.describe()}")
    p95 = percentile(loaded, 0.95) * 1000
    print(f"  sign-ins: {rate:.1f}/s; target p95 <= 100 ms: {'met' if p95 <= 100 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--signins", type=int, default=50, help="clients signing in at once")
    parser.add_argument("--people", type=int, default=10, help="accounts they sign in as")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for kind in args.databases.split(","):
        run(kind, args.seconds, args.signins, args.people, args.workers)


if __name__ == "__main__":
    main()
