"""Requests that overlap, as a browser sends them (a page loading while another is clicked)."""

from __future__ import annotations

import threading
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


@pytest.mark.postgresql_only  # on SQLite reading requests run on the loop: no threads to hold
def test_pages_answer_while_reports_wait_for_the_database(
    portal: Portal, client: TestClient, db_engine: Engine
) -> None:
    """Reports (``endpoint(threads=True)``: they read for long) take turns apart from the few
    reading threads pages run in (web.SLOW_READERS_PER_PROCESS): with 16 of them waiting for
    a table another transaction holds, a page still answers at once; then every report does."""
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


def test_more_pages_at_once_than_reading_threads_all_answer_and_the_threads_end_with_the_app(
    portal: Portal, settings: Settings
) -> None:
    """Pages that only read run in the app's few reading threads (portal/threads.py): 40 at
    once queue for the 4 and all answer; when the app stops, its reading threads stop too (a
    test process builds many apps). On SQLite they run on the event loop instead
    (web.endpoint), and no reading thread is started."""
    from portal.app import create_app
    from portal.db import PG_READ_POOL_SIZE
    from portal.web import READING_THREADS, SLOW_READERS_PER_PROCESS

    # Every reading thread and slow reader holds a connection its process keeps.
    assert READING_THREADS + SLOW_READERS_PER_PROCESS <= PG_READ_POOL_SIZE

    person = portal.person(Role.PARTICIPANT)
    before = set(threading.enumerate())
    app = create_app(settings)
    with TestClient(app) as client:
        client.cookies = person.jar
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(lambda _n: client.get("/account").status_code, range(40)))
        readers = app.state.portal.readers
        threads = [
            t for t in set(threading.enumerate()) - before if t.name.startswith("portal-reader-")
        ]
        if app.state.portal.reads_on_loop:
            assert threads == []
        else:
            assert len(threads) == readers.count == READING_THREADS
    assert statuses == [200] * 40
    for thread in threads:
        thread.join(timeout=5)
    assert not [t for t in threads if t.is_alive()]
