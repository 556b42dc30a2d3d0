"""Pages at every size: p50/p95 times and SQL statements per page, for a seeded service at
several sizes side by side, on SQLite and PostgreSQL.

Each size is a service seeded with ``portal seed-scale`` (portal/demo_scale.py): full size is
10,000 cases and 250,000 messages over three years (about 2 million audit rows); "1/10" and
"1/100" are the same shape, smaller. For each database and size:

- times: the real server (``portal serve``, uvicorn, one worker) over HTTP on 127.0.0.1; the
  seeded facilitator and a participant sign in through the real protocol, then each page is
  fetched WARMUP times, then REQUESTS times one after the other; p50 and p95 of the wall time
  of each request, as the client sees it.
- statements: the same pages through the app in process (Starlette's TestClient), each request's
  SQL statements counted by a listener on the engine (tests/support/statements.py), the fewest
  of IN_PROCESS requests (a request may also record the session's last-seen time); and beside
  it, the reference: the median time of those requests and of their SQL statements as the
  driver saw them (sent, run, answered), so what is left is the portal's own Python.

Targets (issue 10): p95 <= 50 ms and the same statements at every size.

SQLite copies are seeded once and kept under --cache (seeding full size takes a while); each
run works on a fresh copy. PostgreSQL is a throwaway server started like the tests'
(tests/support/postgres.py: Debian's binaries, initdb as user postgres when root, fsync off),
seeded on every run.

    .venv/bin/python bench/pages.py [--sizes 1/10,full] [--databases sqlite,postgresql]
                                    [--requests 50] [--cache DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx2 as httpx
from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.db import make_engine, make_session_factory, upgrade  # noqa: E402
from portal.demo_scale import Scale, Seeded, analyze, seed_scale  # noqa: E402
from portal.settings import Settings  # noqa: E402
from tests.factories import Person  # noqa: E402
from tests.support.env import portal_env  # noqa: E402
from tests.support.live_server import start_live_server  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.statements import Counting, counting_statements  # noqa: E402

SIZES = {
    "1/100": Scale(cases=100, messages=2_500),
    "1/10": Scale(cases=1_000, messages=25_000),
    "full": Scale(cases=10_000, messages=250_000),
}
PASSWORD = "bench pages password"  # noqa: S105  (the seeded bench accounts' password)
WARMUP = 3
FROM_THE_CASES = "facilitator's home, read from the cases"
# (label, who, address): {typical} is a typical case of the facilitator, {busiest} their
# case with the most messages.
PAGES = [
    ("facilitator's home", "facilitator", "/home"),
    # What is kept for the home forgotten before each request (not timed): the first home after
    # a change to the facilitator's cases, read from them (portal/homes).
    (FROM_THE_CASES, "facilitator", "/home"),
    ("review queue (waiting)", "facilitator", "/queue"),
    ("review queue (all)", "facilitator", "/queue?state=all"),
    ("cases list", "facilitator", "/cases"),
    ("follow-ups", "facilitator", "/follow-ups"),
    ("case page", "facilitator", "/cases/{typical}"),
    ("audit trail (typical case)", "facilitator", "/cases/{typical}/audit"),
    ("audit trail (busiest case)", "facilitator", "/cases/{busiest}/audit"),
    ("participant's home", "participant", "/home"),
]


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings.from_env(
        portal_env(data_dir=data_dir, database_url=url, base_url="http://testserver")
    )


def _seed(url: str, data_dir: Path, scale: Scale) -> Seeded:
    upgrade(url)
    engine = make_engine(url)
    started = time.monotonic()
    try:
        with make_session_factory(engine)() as db:
            seeded = seed_scale(db, _settings(data_dir, url), scale, PASSWORD)
            db.commit()
        analyze(engine)
    finally:
        engine.dispose()
    total = sum(seeded.rows.values())
    print(f"    seeded {total:,} rows in {time.monotonic() - started:.0f} s", flush=True)
    return seeded


def _schema_and_seeder() -> str:
    """A short hash of the migrations and the seeder: a cached copy made by others is stale."""
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted((REPO / "portal" / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    digest.update((REPO / "portal" / "demo_scale.py").read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def sqlite_service(cache: Path, name: str, scale: Scale) -> Iterator[tuple[str, Path, Seeded]]:
    """A fresh copy of the cached seeded SQLite service (seeded first if not cached)."""
    kept = cache / f"sqlite-{scale.cases}-{scale.messages}-{scale.seed}-{_schema_and_seeder()}"
    if not (kept / "seeded.json").exists():
        print(f"    seeding {name} into {kept} (kept for later runs)", flush=True)
        shutil.rmtree(kept, ignore_errors=True)
        (kept / "data").mkdir(parents=True)
        url = f"sqlite:///{kept / 'data' / 'portal.sqlite3'}"
        seeded = _seed(url, kept / "data", scale)
        (kept / "seeded.json").write_text(json.dumps(asdict(seeded)))
    seeded = Seeded(**json.loads((kept / "seeded.json").read_text()))
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as temp:
        data_dir = Path(temp) / "data"
        shutil.copytree(kept / "data", data_dir)
        yield f"sqlite:///{data_dir / 'portal.sqlite3'}", data_dir, seeded


@contextlib.contextmanager
def postgres_service(
    server: PostgresServer, name: str, scale: Scale
) -> Iterator[tuple[str, Path, Seeded]]:
    database = f"bench_pages_{scale.cases}_{scale.messages}"
    server.drop_database(database)
    server.create_database(database)
    url = server.url(database)
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as temp:
        data_dir = Path(temp) / "data"
        data_dir.mkdir()
        print(f"    seeding {name}", flush=True)
        seeded = _seed(url, data_dir, scale)
        try:
            yield url, data_dir, seeded
        finally:
            server.drop_database(database)


def _address(path: str, seeded: Seeded) -> str:
    return path.format(typical=seeded.typical_case_id, busiest=seeded.busiest_case_id)


def _people(http: httpx.Client, seeded: Seeded) -> dict[str, Person]:
    people = {
        "facilitator": Person(http, name=seeded.facilitator_name, password=PASSWORD),
        "participant": Person(http, name=seeded.participant_name, password=PASSWORD),
    }
    for person in people.values():
        person.sign_in()
    return people


Timings = dict[str, tuple[float, float]]


def _forget_kept_homes(url: str) -> None:
    """Every kept home read from the cases at its next visit (as docs/operator.md says)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE home_heads SET kept_at_changes = NULL"))
    finally:
        engine.dispose()


def times(url: str, data_dir: Path, seeded: Seeded, requests: int) -> Timings:
    """p50 and p95 in ms of each page, through the real server."""
    server = start_live_server(
        data_dir=data_dir, database_url=url, env_overrides={}, label="bench-pages"
    )
    found: Timings = {}
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            people = _people(http, seeded)
            for label, who, path in PAGES:
                person, address = people[who], _address(path, seeded)
                samples = []
                for n in range(WARMUP + requests):
                    if label == FROM_THE_CASES:
                        _forget_kept_homes(url)
                    started = time.perf_counter()
                    response = person.get(address)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise SystemExit(f"{address}: {response.status_code} {response.text[:200]}")
                    if n >= WARMUP:
                        samples.append(elapsed)
                samples.sort()
                p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
                found[label] = (statistics.median(samples), p95)
    finally:
        server.stop()
    return found


# Requests per page in process, for the database's share of a page.
IN_PROCESS = 20
# (statements, p50 ms of the request in process, p50 ms of its SQL as the driver saw it)
Counted = dict[str, tuple[int, float, float]]


def statements(url: str, data_dir: Path, seeded: Seeded) -> Counted:
    """SQL statements per page, through the app in process; and, side by side, the median time
    of the request there and of its statements (sent, run by the database, answered: the
    driver's view, tests/support/statements.py), so the portal's own time (Python: routing,
    session, ORM, templates) is the difference."""
    app = Counting(create_app(_settings(data_dir, url)))
    found: Counted = {}
    with counting_statements(), TestClient(app) as http:
        people = _people(http, seeded)
        for label, who, path in PAGES:
            counts, pages_ms, sql_ms = [], [], []
            for _ in range(WARMUP + IN_PROCESS):
                if label == FROM_THE_CASES:
                    _forget_kept_homes(url)
                started = time.perf_counter()
                response = people[who].get(_address(path, seeded))
                pages_ms.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                counts.append(app.last.count)
                sql_ms.append(app.last.sql_seconds * 1000)
            found[label] = (
                min(counts),
                statistics.median(pages_ms[WARMUP:]),
                statistics.median(sql_ms[WARMUP:]),
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1/10,full", help=f"of {', '.join(SIZES)}")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "portal-bench-pages",
        help="where seeded SQLite services are kept between runs",
    )
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}: choose from {list(SIZES)}")
    results: dict[tuple[str, str], tuple[Timings, Counted]] = {}
    with contextlib.ExitStack() as stack:
        for database in [d.strip() for d in args.databases.split(",") if d.strip()]:
            server = None
            if database == "postgresql":
                server = stack.enter_context(PostgresServer())
            for size in sizes:
                print(f"{database}, {size}:", flush=True)
                service = (
                    postgres_service(server, size, SIZES[size])
                    if server is not None
                    else sqlite_service(args.cache, size, SIZES[size])
                )
                with service as (url, data_dir, seeded):
                    timed = times(url, data_dir, seeded, args.requests)
                    counted = statements(url, data_dir, seeded)
                results[(database, size)] = (timed, counted)
            report(database, sizes, results)


def report(
    database: str,
    sizes: list[str],
    results: dict[tuple[str, str], tuple[Timings, Counted]],
) -> None:
    print(f"\n{database}: p50 / p95 ms, SQL statements per page")
    header = f"  {'page':<28}" + "".join(f"{size:>24}" for size in sizes)
    print(header)
    worst = 0.0
    grew = []
    for label, _who, _path in PAGES:
        cells = []
        counts = set()
        for size in sizes:
            timed, counted = results[(database, size)]
            p50, p95 = timed[label]
            worst = max(worst, p95)
            counts.add(counted[label][0])
            cells.append(f"{p50:7.1f} / {p95:7.1f}, {counted[label][0]:3d} st")
        if len(counts) > 1:
            grew.append(label)
        print(f"  {label:<28}" + "".join(f"{cell:>24}" for cell in cells))
    print(
        f"  worst p95 {worst:.1f} ms (target <= 50): {'met' if worst <= 50 else 'NOT met'}; "
        f"statements {'the same at every size' if not grew else 'grew for ' + ', '.join(grew)}\n",
        flush=True,
    )
    print(
        f"{database}, in process (p50 ms of {IN_PROCESS}): the request, and of it the SQL "
        "statements as the driver saw them; the rest is the portal's own Python"
    )
    print(f"  {'page':<28}" + "".join(f"{size:>24}" for size in sizes))
    for label, _who, _path in PAGES:
        cells = []
        for size in sizes:
            _count, page_ms, sql_ms = results[(database, size)][1][label]
            cells.append(f"{page_ms:6.1f}, SQL {sql_ms:5.1f}")
        print(f"  {label:<28}" + "".join(f"{cell:>24}" for cell in cells))
    print(flush=True)


if __name__ == "__main__":
    main()
