"""Requests that overlap, as a browser sends them (a page loading while another is clicked)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from portal.accounts.models import Role
from portal.db import make_engine
from portal.settings import Settings
from tests.factories import Portal
from tests.support.handling import note_handling_threads
from tests.support.live_server import LiveServer


def test_overlapping_requests_of_one_session_all_succeed(live_server: LiveServer) -> None:
    settings = Settings.from_env(live_server.env)
    engine = make_engine(live_server.database_url)
    try:
        with httpx.Client(base_url=live_server.base_url) as http:
            person = Portal(http, settings, engine).person(Role.FACILITATOR)
            cookies = dict(person.jar.items())
        paths = ["/home", "/api/session", "/account", "/api/session/keepalive", "/queue"] * 8

        def fetch(path: str) -> int:
            with httpx.Client(base_url=live_server.base_url, cookies=cookies) as client:
                if path.endswith("keepalive"):
                    token = cookies["portal_csrf"]
                    return client.post(path, json={}, headers={"X-CSRF-Token": token}).status_code
                return client.get(path).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(fetch, paths))
        assert statuses == [200] * len(paths)
    finally:
        engine.dispose()


def test_concurrent_wrong_sign_ins_for_one_name_stay_within_the_limit(
    live_server: LiveServer,
) -> None:
    """12 wrong guesses for one name at once (limit 5): at most 5 are checked, the rest wait."""
    settings = Settings.from_env(live_server.env)
    engine = make_engine(live_server.database_url)
    try:
        with httpx.Client(base_url=live_server.base_url) as http:
            name = Portal(http, settings, engine).person(Role.FACILITATOR).name
    finally:
        engine.dispose()
    assert settings.signin_max_failures_per_account == 5

    def guess(_: int) -> int:
        with httpx.Client(base_url=live_server.base_url) as client:
            client.get("/healthz")
            token = client.cookies["portal_csrf"]
            return client.post(
                "/api/sign-in",
                json={"sign_in_name": name, "auth_key": "A" * 43},
                headers={"X-CSRF-Token": token},
            ).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(guess, range(12)))
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) <= 5, statuses


@pytest.mark.sqlite_only  # PostgreSQL has no database-wide write lock: writers lock only rows
def test_pages_answer_while_writers_queue_for_the_database(
    portal: Portal, client: TestClient, db_engine: Engine
) -> None:
    """50 writing requests wait for SQLite's write lock; a page that only reads still answers
    at once. Queued writers hold at most WRITERS_PER_PROCESS request threads and connections
    (had they taken all 40 threads, the page would wait for one as long as they wait)."""
    person = portal.person(Role.FACILITATOR)
    token = person.csrf()
    client.cookies = person.jar
    with db_engine.connect() as writer, ThreadPoolExecutor(max_workers=50) as pool:
        writer.begin()  # BEGIN IMMEDIATE (portal/db.py): the write lock, held
        queued = [
            pool.submit(
                client.post, "/api/session/keepalive", json={}, headers={"X-CSRF-Token": token}
            )
            for _ in range(50)
        ]
        time.sleep(1)  # every writer has reached the server and queues
        started = time.monotonic()
        page = client.get("/account")
        waited = time.monotonic() - started
        writer.rollback()
        statuses = [future.result().status_code for future in queued]
    assert page.status_code == 200
    assert waited < 5
    assert statuses == [200] * 50


@pytest.mark.postgresql_only  # LOCK TABLE is PostgreSQL's; SQLite's readers never wait
def test_the_loop_answers_while_pages_wait_for_the_database(
    portal: Portal, client: TestClient, db_engine: Engine
) -> None:
    """Pages wait for PostgreSQL on the event loop (portal/loop_reads.py) without holding it:
    with more pages than their turns waiting for a table another transaction holds, the loop
    still answers at once; then every page does."""
    person = portal.person(Role.PARTICIPANT)
    # Sent by hand, so that the loop's own answer below goes without a session.
    signed_in = {"Cookie": "; ".join(f"{name}={value}" for name, value in person.jar.items())}
    client.cookies.clear()
    with db_engine.connect() as holder, ThreadPoolExecutor(max_workers=9) as pool:
        holder.begin()
        # Every signed-in page looks its session up first.
        holder.exec_driver_sql("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        waiting = [pool.submit(lambda: client.get("/account", headers=signed_in)) for _ in range(8)]
        time.sleep(1)  # every page has reached the server and waits
        pages_waited = not any(page.done() for page in waiting)
        started = time.monotonic()
        health = pool.submit(lambda: client.get("/healthz"))
        try:
            answered = health.result(timeout=5).status_code
        except TimeoutError:
            answered = None  # the loop was held (the table is let go below)
        took = time.monotonic() - started
        holder.rollback()
        statuses = [page.result().status_code for page in waiting]
    assert pages_waited
    assert answered == 200
    assert took < 1
    assert statuses == [200] * 8


@pytest.mark.postgresql_only  # LOCK TABLE is PostgreSQL's; SQLite's readers never wait
def test_pages_answer_while_reports_wait_for_the_database(
    portal: Portal, client: TestClient, db_engine: Engine
) -> None:
    """Reports (``endpoint(threads=True)``: they read for long) take turns in threads apart from
    the pages' on the loop (web.SLOW_READERS_PER_PROCESS): with 16 of them waiting for a table
    another transaction holds, a page still answers at once; then every report does."""
    manager = portal.person(Role.SERVICE_MANAGER)
    client.cookies = manager.jar
    with db_engine.connect() as holder, ThreadPoolExecutor(max_workers=17) as pool:
        holder.begin()
        # Reports read the referrals; nothing on /account does.
        holder.exec_driver_sql("LOCK TABLE referrals IN ACCESS EXCLUSIVE MODE")
        waiting = [pool.submit(client.get, "/staff/reports") for _ in range(16)]
        time.sleep(1)  # every report has reached the server and waits
        reports_waited = not any(report.done() for report in waiting)
        page = pool.submit(client.get, "/account")
        try:
            answered = page.result(timeout=5).status_code
        except TimeoutError:
            answered = None  # held up behind the reports (the table is let go below)
        holder.rollback()
        statuses = [report.result().status_code for report in waiting]
    assert reports_waited
    assert answered == 200
    assert statuses == [200] * 16


def test_more_pages_at_once_than_their_turns_all_answer_on_the_loop(
    portal: Portal, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages that only read run on the event loop (on PostgreSQL in greenlets that wait there
    for the server, at most web.READS_AT_ONCE at once: portal/loop_reads.py): 40 at once all
    answer, and no thread of the portal's answers any of them."""
    from portal.app import create_app
    from portal.db import PG_READ_POOL_SIZE
    from portal.web import READS_AT_ONCE, SLOW_READERS_PER_PROCESS

    # Every read on the loop and every slow reader holds a connection its process keeps: a read
    # on the loop must never wait for one.
    assert READS_AT_ONCE + SLOW_READERS_PER_PROCESS <= PG_READ_POOL_SIZE

    person = portal.person(Role.PARTICIPANT)
    app = create_app(settings)
    with TestClient(app) as client:
        client.cookies = person.jar
        noted = note_handling_threads(client, monkeypatch)
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(lambda _n: client.get("/account").status_code, range(40)))
    assert statuses == [200] * 40
    assert noted.by_path == {"/account": {noted.loop}}
