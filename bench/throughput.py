"""Requests per second and latency through the real server, as ratios of a bare Starlette app.

Starts ``portal serve`` (uvicorn, the same server settings as bench/ingest.py, a temporary data
folder) and, under the same uvicorn settings and number of workers, a bare Starlette app that
answers "hello" (bench/hello_app.py). Makes a facilitator, a case with two participants and a few
letters waiting for review over the HTTP API (tests/factories.py), then loads each path with
``wrk`` (16 connections, 2 threads) and prints requests/second, p50 and p99 latency, and the
ratio of requests/second to hello's:

- ``/healthz`` without a session cookie, and with the facilitator's session cookie;
- ``/account``, a signed-in simple page;
- ``/home``, the facilitator's home;

and, on a server of bench/reference_app.py beside the portal's, on the same database with the
same settings, three floors: hello behind the portal's middleware (``/bare``), that plus the
least a signed-in request does (``/session``: the cookie's keyed hash and the portal's session
statement on the bare driver, as the portal runs it), and that plus the facilitator's home's
statement (``/home``). What the portal spends beyond ``/session`` is its own code
(``--no-reference`` skips them).

On SQLite and on PostgreSQL (a throwaway server started as the tests start theirs:
tests/support/postgres.py, Debian's binaries, ``initdb`` as the ``postgres`` user when run as
root; it runs with fsync off, like the tests' server), with 1 and 2 server workers.

The servers (hello, the portal, the floors') run at once and take turns: each path is loaded
``--rounds`` times (``--duration`` seconds a path in all, split between its rounds), and hello
before the first round and after each, so that every round's ratio is against hello measured
just before and after it. The median round's ratio is the one compared with the target, and
the range of the rounds' ratios is printed beside it: on a shared 2-core machine a slow minute
used to land on whichever path was measured then (a path's CPU a request up by a third while
hello's, measured a minute before, was not).

    .venv/bin/python bench/throughput.py [--duration 10] [--rounds 5]
                                         [--databases sqlite,postgresql] [--workers 1,2]
                                         [--letters 20] [--paths home] [--no-reference]

Needs ``wrk`` (Debian: ``apt-get install -y wrk``). Targets: /account >= 0.2 of hello, the
facilitator's home >= 0.1, /healthz without a session >= 0.5; 2 workers serve more than 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.*

from portal.db import make_engine, upgrade  # noqa: E402
from portal.settings import Settings  # noqa: E402
from tests.cases_world import CaseWorld  # noqa: E402
from tests.factories import Portal  # noqa: E402
from tests.support.cpu import parent, tree_cpu_seconds  # noqa: E402
from tests.support.live_server import LiveServer, start_live_server  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.postgres import throwaway_database  # noqa: E402


def serve_hello(port: int, workers: int, app: str = "bench.hello_app:app") -> None:
    """Run bench/hello_app.py (or ``app``, an app factory) as ``portal serve`` runs the portal
    (portal/cli.py)."""
    import uvicorn

    from portal.cli import WORKER_HEALTHCHECK_SECONDS
    from portal.logs import uvicorn_log_config

    uvicorn.run(
        app,
        factory=app != "bench.hello_app:app",
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="info",
        server_header=False,
        log_config=uvicorn_log_config(),
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        app_dir=str(REPO),
    )


@contextlib.contextmanager
def hello_server(
    workers: int, *, reference: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """The hello app's base URL and its server's process id; with ``reference`` (the portal's
    environment), bench/reference_app.py's instead, on the portal's database."""
    port = free_port()
    flag = "--serve-reference" if reference is not None else "--serve-hello"
    probe = "/bare" if reference is not None else "/"
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, __file__, flag, str(port), "--workers", str(workers)],
            cwd=REPO,
            stdout=output,
            stderr=output,
            start_new_session=True,
            env={**os.environ, **(reference or {})},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + probe, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    output.seek(0)
                    raise RuntimeError("the hello server did not start:\n" + output.read().decode())
                time.sleep(0.05)
            yield base, process.pid
        finally:
            os.killpg(process.pid, 15)
            process.wait(10)


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    # The server's CPU time (user + system, every process and thread of it) per request: what
    # the code costs, steady when other work shares the cores (requests/second is not).
    cpu_ms: float
    # The database server's (PostgreSQL's processes'), per request; None on SQLite (in the
    # server's own processes) and for apps that use no database.
    database_cpu_ms: float | None = None
    requests: int = 0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def wrk(
    url: str,
    *,
    seconds: int,
    server_pid: int,
    cookie: str | None = None,
    database_pid: int | None = None,
) -> Load:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    cpu_before = tree_cpu_seconds(server_pid)
    database_before = tree_cpu_seconds(database_pid) if database_pid else 0.0
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = tree_cpu_seconds(server_pid) - cpu_before
    database = tree_cpu_seconds(database_pid) - database_before if database_pid else None
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    failed = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(n) for n in failed.groups()) if failed else 0
    per_request = 1000 / max(requests, 1)
    return Load(
        rps,
        p50,
        p99,
        errors,
        cpu * per_request,
        None if database is None else database * per_request,
        requests,
    )


def database_server_pid(url: str) -> int | None:
    """The PostgreSQL server's main process (its backends are its children), or None on
    SQLite."""
    if not url.startswith("postgresql"):
        return None
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        backend = connection.execute("SELECT pg_backend_pid()").fetchone()
    assert backend is not None
    return parent(backend[0])


def portal_server(data_dir: Path, database_url: str, workers: int) -> LiveServer:
    return start_live_server(
        data_dir=data_dir,
        database_url=database_url,
        env_overrides={},
        label=f"bench-{workers}",
        serve_args=["--workers", str(workers)],
    )


def seed(server: LiveServer, letters: int) -> str:
    """A facilitator with a case and ``letters`` letters waiting for review; their cookies."""
    settings = Settings.from_env({k: v for k, v in server.env.items() if k.startswith("PORTAL_")})
    engine = make_engine(server.database_url)
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            world = CaseWorld.build(Portal(client, settings, engine))
            for number in range(letters):
                world.write_letter(world.responsible, f"Letter {number}")
            facilitator = world.facilitator
            assert facilitator.get("/home").status_code == 200
            return "; ".join(f"{name}={value}" for name, value in facilitator.jar.items())
    finally:
        engine.dispose()


# Floors (bench/reference_app.py), served after the portal on its database: the portal's
# middleware alone, and that plus the least a signed-in request does (its session looked up
# on the driver in a worker thread).
REFERENCE_PATHS = (
    ("ref: middleware only", "/bare", False, None),
    ("ref: + session lookup", "/session", True, None),
    ("ref: + home statement", "/home", True, None),
)

PATHS = (
    ("/healthz, no session", "/healthz", False, 0.5),
    ("/healthz, session cookie", "/healthz", True, None),
    ("/account (signed in)", "/account", True, 0.2),
    ("/home (facilitator)", "/home", True, 0.1),
)


@dataclass(frozen=True)
class _Target:
    label: str
    url: str
    server_pid: int
    cookie: str | None


@dataclass(frozen=True)
class Rounds:
    """A path's loads, one a round, and hello's around them: ``hello[r]`` before round ``r``,
    ``hello[r + 1]`` after it."""

    loads: list[Load]
    hello: list[Load]

    @property
    def ratios(self) -> list[float]:
        """Each round's requests/second over hello's just before and after it."""
        return [
            load.requests_per_second
            / ((before.requests_per_second + after.requests_per_second) / 2)
            for load, before, after in zip(self.loads, self.hello, self.hello[1:], strict=False)
        ]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def _mean_rps(loads: list[Load]) -> float:
    return statistics.fmean(load.requests_per_second for load in loads)


def _per_request(loads: list[Load], cost: Callable[[Load], float | None]) -> float | None:
    """``cost`` a request over all of ``loads`` (each weighed by its requests), or None if a
    load has none."""
    costs = [cost(load) for load in loads]
    if any(each is None for each in costs):
        return None
    total = sum((each or 0.0) * load.requests for each, load in zip(costs, loads, strict=True))
    return total / max(sum(load.requests for load in loads), 1)


def _cpu_ms(loads: list[Load]) -> float:
    return _per_request(loads, lambda load: load.cpu_ms) or 0.0


def _database_ms(loads: list[Load]) -> float | None:
    return _per_request(loads, lambda load: load.database_cpu_ms)


def interleaved(
    hello_url: str,
    hello_pid: int,
    targets: list[_Target],
    *,
    seconds: int,
    rounds: int,
    database_pid: int | None,
) -> tuple[list[Load], dict[str, Rounds]]:
    """Every target loaded ``rounds`` times, hello before the first round and after each.

    The servers all run at once and take turns, so that each round's ratio is against hello
    measured just before and just after it: on a shared machine a slow minute (another
    tenant, the host) otherwise lands on whichever path is measured then, and one slow
    minute moved a path's ratio by a fifth while hello, measured a minute earlier, did not
    see it. The median round is printed, with the range.
    """
    wrk(hello_url, seconds=1, server_pid=hello_pid)  # warm up
    for target in targets:
        wrk(target.url, seconds=1, server_pid=target.server_pid, cookie=target.cookie)
    hello = [wrk(hello_url, seconds=seconds, server_pid=hello_pid)]
    loads: dict[str, list[Load]] = {target.label: [] for target in targets}
    for _ in range(rounds):
        for target in targets:
            loads[target.label].append(
                wrk(
                    target.url,
                    seconds=seconds,
                    server_pid=target.server_pid,
                    cookie=target.cookie,
                    database_pid=database_pid,
                )
            )
        hello.append(wrk(hello_url, seconds=seconds, server_pid=hello_pid))
    return hello, {label: Rounds(measured, hello) for label, measured in loads.items()}


def run(
    kind: str,
    workers_list: list[int],
    seconds: int,
    rounds: int,
    letters: int,
    paths: tuple[tuple[str, str, bool, float | None], ...] = PATHS,
    reference: bool = True,
) -> None:
    with tempfile.TemporaryDirectory() as temp, throwaway_database(kind, Path(temp)) as url:
        data_dir = Path(temp) / "data"
        data_dir.mkdir()
        upgrade(url)
        database_pid = database_server_pid(url)
        cookie = ""
        by_workers: dict[int, tuple[list[Load], dict[str, Rounds]]] = {}
        for workers in workers_list:
            with contextlib.ExitStack() as servers:
                hello, hello_pid = servers.enter_context(hello_server(workers))
                server = portal_server(data_dir, url, workers)
                servers.callback(server.stop)
                if not cookie:
                    cookie = seed(server, letters)
                targets = [
                    _Target(label, server.url(path), server.process.pid, cookie if sent else None)
                    for label, path, sent, _target in paths
                ]
                if reference:
                    environment = {k: v for k, v in server.env.items() if k.startswith("PORTAL_")}
                    base, reference_pid = servers.enter_context(
                        hello_server(workers, reference=environment)
                    )
                    targets += [
                        _Target(label, base + path, reference_pid, cookie if sent else None)
                        for label, path, sent, _target in REFERENCE_PATHS
                    ]
                by_workers[workers] = interleaved(
                    hello + "/",
                    hello_pid,
                    targets,
                    seconds=seconds,
                    rounds=rounds,
                    database_pid=database_pid,
                )
            _print_table(kind, workers, seconds, rounds, *by_workers[workers])
        if len(by_workers) > 1:
            low, high = min(by_workers), max(by_workers)
            print(f"{kind}: {high} workers against {low} (req/s ratio):")
            hello_gain = _mean_rps(by_workers[high][0]) / _mean_rps(by_workers[low][0])
            print(f"  {'hello':28} {hello_gain:6.2f}")
            for label, measured in by_workers[low][1].items():
                gain = _mean_rps(by_workers[high][1][label].loads) / _mean_rps(measured.loads)
                print(f"  {label:28} {gain:6.2f}")


def _print_table(
    kind: str,
    workers: int,
    seconds: int,
    rounds: int,
    hello: list[Load],
    by_label: dict[str, Rounds],
) -> None:
    plural = "s" if workers > 1 else ""
    print(
        f"{kind}, {workers} worker{plural} (wrk -c16; {rounds} rounds of {seconds} s a path,"
        " hello before and after each round; the median round's ratio, and the range):"
    )
    print(
        f"  {'':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'range':>11}"
        f" {'CPU ms/req':>10} {'CPU ratio':>9} {'DB ms/req':>9}  target"
    )
    hello_cpu = _cpu_ms(hello)
    print(
        f"  {'hello':28} {_mean_rps(hello):9.1f} {statistics.median(h.p50_ms for h in hello):8.1f}"
        f" {statistics.median(h.p99_ms for h in hello):8.1f} {1:6.3f} {'':>11}"
        f" {hello_cpu:10.3f} {1:9.3f} {'':>9}"
    )
    for label, measured in by_label.items():
        loads = measured.loads
        target = next((t for name, _p, _s, t in PATHS if name == label), None)
        ratio = measured.ratio
        mark = "" if target is None else f">= {target} {'met' if ratio >= target else 'NOT met'}"
        errors = sum(load.errors for load in loads)
        shown_errors = f"  ({errors} errors)" if errors else ""
        cpu = _cpu_ms(loads)
        # hello's server CPU per request over this path's: the ratio the cores would give if
        # the server had them to itself (wrk shares them here).
        cpu_ratio = hello_cpu / cpu if cpu else 0.0
        database_ms = _database_ms(loads)
        database = "" if database_ms is None else f"{database_ms:.3f}"
        spread = f"{min(measured.ratios):.3f}-{max(measured.ratios):.3f}"
        print(
            f"  {label:28} {_mean_rps(loads):9.1f}"
            f" {statistics.median(load.p50_ms for load in loads):8.1f}"
            f" {statistics.median(load.p99_ms for load in loads):8.1f} {ratio:6.3f} {spread:>11}"
            f" {cpu:10.3f} {cpu_ratio:9.3f} {database:>9}  {mark}{shown_errors}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds per path, over all its rounds"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="measurements per path, taking turns with the others and hello (at least 1 s each)",
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--letters", type=int, default=20, help="letters waiting for review")
    parser.add_argument(
        "--paths",
        default="",
        help="only the paths whose label contains one of these words (comma separated), "
        "e.g. home; hello is always measured",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip the floors (bench/reference_app.py: middleware only, + session lookup)",
    )
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-reference", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hello:
        serve_hello(args.serve_hello, int(args.workers))
        return
    if args.serve_reference:
        serve_hello(
            args.serve_reference, int(args.workers), "bench.reference_app:app_from_environment"
        )
        return
    if shutil.which("wrk") is None:
        sys.exit("bench/throughput.py needs wrk: apt-get install -y wrk")
    workers = [int(w) for w in args.workers.split(",")]
    words = [w.strip() for w in args.paths.split(",") if w.strip()]
    paths = tuple(p for p in PATHS if not words or any(w in p[0] for w in words))
    seconds = max(1, args.duration // args.rounds)
    for kind in args.databases.split(","):
        run(kind, workers, seconds, args.rounds, args.letters, paths, not args.no_reference)


if __name__ == "__main__":
    main()
