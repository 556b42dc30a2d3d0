"""CPU per request of the real app in process: what the portal's own code costs a page.

Builds the app (``create_app``) on a throwaway SQLite or PostgreSQL database, makes the world
bench/throughput.py makes (a facilitator, a case, letters waiting for review) over the HTTP
API in process (Starlette's TestClient), then calls the ASGI app directly, with no HTTP client
or server in the way, ``--requests`` times per path, and prints the process's CPU time per
request (user + system, every thread: the worker-thread hops are real), best of ``--rounds``,
the paths taken in turn so that load on a shared machine moves them alike. Unlike
requests/second, CPU per request hardly moves when other work shares the cores.

    .venv/bin/python bench/in_process.py [--databases sqlite,postgresql] [--requests 1000]
                                         [--rounds 5] [--letters 20] [--profile account]

``--profile PATH`` prints cProfile's top functions (cumulative and own time) for that path
instead (``account``, ``home`` or ``healthz``), with the worker-thread hops made inline so
that one profile sees everything.

To compare two versions of the code in one run, run this file from each checkout in turn
(``PYTHONPATH=<checkout>``): each prints its own figures, on a world of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.*

import portal  # noqa: E402
from portal.app import create_app, keep_freed_memory  # noqa: E402
from portal.db import make_engine, upgrade  # noqa: E402
from portal.settings import Settings  # noqa: E402
from tests.cases_world import CaseWorld  # noqa: E402
from tests.factories import Portal  # noqa: E402
from tests.support.env import portal_env  # noqa: E402
from tests.support.postgres import throwaway_database  # noqa: E402

PATHS = {"healthz": "/healthz", "account": "/account", "home": "/home"}


def _scope(path: str, cookie: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"user-agent", b"bench"),
            (b"accept", b"text/html"),
            (b"cookie", cookie.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def _call(app: Starlette, path: str, cookie: str) -> int:
    status = 0

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path, cookie), receive, send)
    return status


async def _many(app: Starlette, path: str, cookie: str, count: int) -> float:
    """CPU seconds of ``count`` requests, one after another."""
    started = time.process_time()
    for _ in range(count):
        status = await _call(app, path, cookie)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return time.process_time() - started


def _inline_thread_hops() -> None:
    """Run worker-thread work (and reads' greenlets) on the event loop's own stack, so that one
    profile sees it all."""
    import anyio.to_thread

    async def inline(func: Any, *args: Any, **_options: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]  # a stand-in, same use
    try:
        from portal import loop_reads
    except ImportError:  # a checkout from before reads waited for PostgreSQL on the loop
        return

    async def inline_reading(func: Any) -> Any:
        # Not in a greenlet: the driver waits as it does in a thread, and cProfile (which
        # follows one stack a thread) sees the request's calls where they are made.
        return func()

    loop_reads.run = inline_reading  # type: ignore[assignment]  # a stand-in, same use


def _world(app: Starlette, settings: Settings, letters: int) -> str:
    from starlette.testclient import TestClient

    engine = make_engine(settings.database_url)
    try:
        with TestClient(app) as client:
            world = CaseWorld.build(Portal(client, settings, engine))
            for number in range(letters):
                world.write_letter(world.responsible, f"Letter {number}")
            facilitator = world.facilitator
            assert facilitator.get("/home").status_code == 200
            return "; ".join(f"{name}={value}" for name, value in facilitator.jar.items())
    finally:
        engine.dispose()


def run(kind: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as temp, throwaway_database(kind, Path(temp)) as url:
        (Path(temp) / "data").mkdir()
        upgrade(url)
        settings = Settings.from_env(
            portal_env(data_dir=Path(temp) / "data", database_url=url, base_url="http://testserver")
        )
        app = create_app(settings)
        cookie = _world(app, settings, args.letters)
        # The lifespan again, for the calls below (the TestClient's ended with it).
        app = create_app(settings)

        async def measure() -> None:
            async with app.router.lifespan_context(app):
                paths = [PATHS[name] for name in args.paths.split(",")]
                if args.inline:
                    _inline_thread_hops()
                for path in paths:  # warm up
                    await _many(app, path, cookie, 50)
                if args.profile:
                    path = PATHS[args.profile]
                    _inline_thread_hops()
                    profile = cProfile.Profile()
                    profile.enable()
                    await _many(app, path, cookie, args.requests)
                    profile.disable()
                    stats = pstats.Stats(profile)
                    total_calls = stats.total_calls  # type: ignore[attr-defined]
                    print(f"{kind} {path}: {total_calls / args.requests:.0f} calls a request")
                    stats.sort_stats("cumulative").print_stats(45)
                    stats.sort_stats("tottime").print_stats(35)
                    return
                best: dict[str, float] = {}
                for _ in range(args.rounds):
                    for path in paths:
                        cpu = await _many(app, path, cookie, args.requests)
                        best[path] = min(best.get(path, cpu), cpu)
                print(f"{kind} ({Path(portal.__file__).parent.parent}):")
                for path in paths:
                    per_request = best[path] * 1000 / args.requests
                    print(f"  {path:10} {per_request:.3f} ms CPU a request (best of {args.rounds})")

        asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--letters", type=int, default=20)
    parser.add_argument("--paths", default="healthz,account,home")
    parser.add_argument("--profile", choices=sorted(PATHS), default=None)
    parser.add_argument(
        "--inline",
        action="store_true",
        help="worker-thread hops made inline (for a sampling profiler such as py-spy)",
    )
    args = parser.parse_args()
    # As ``portal serve`` sets its processes' allocator (portal/app.py).
    keep_freed_memory()
    for kind in args.databases.split(","):
        run(kind, args)


if __name__ == "__main__":
    main()
