"""Floors for bench/throughput.py: what a signed-in page costs before the portal's own code.

Served by the same server with the same settings as the portal and hello, on the portal's own
database (the ``PORTAL_*`` environment ``portal serve`` was given):

- ``/bare``: "hello" behind the portal's middleware (security headers, the body limit), on
  the event loop: the framework's share of every portal page;
- ``/session``: the same, plus what any signed-in request needs at the least: the session
  cookie's keyed hash and the portal's session statement on a pooled driver connection
  (``sqlite3`` or ``psycopg``, no SQLAlchemy), read-only, the cheapest way known for each
  database: on SQLite on the event loop in a read transaction (BEGIN, the statement, COMMIT);
  on PostgreSQL after a hop to a worker thread (a plain one taking work off a queue, the loop
  future settled from it), the statement alone in autocommit on a session that reads only by
  default (one round trip). It answers whether the session was found. No account is built, no
  rule judged, no CSRF token, no template.

The gap between ``/session`` and the portal's ``/healthz`` with a session cookie is the
portal's request boundary; between ``/session`` and ``/account``, the boundary and the page.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portal.accounts.sessions import _LIVE_SESSION
from portal.protocol import token_hash as keyed_token_hash
from portal.security import SESSION_COOKIE, BodyLimitMiddleware, SecurityHeadersMiddleware
from portal.settings import Settings

T = TypeVar("T")
POOL = 16


class _Hops:
    """Worker threads taking work off a queue, each answer settled on the loop: the least a
    hop to a thread and back costs (anyio's ``to_thread`` adds a limiter, a cancel scope and
    its own bookkeeping)."""

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(count):
            threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            loop, future, work = self._jobs.get()
            try:
                result = work()
            except BaseException as error:  # noqa: BLE001  (handed to the waiting request)
                loop.call_soon_threadsafe(future.set_exception, error)
            else:
                loop.call_soon_threadsafe(future.set_result, result)

    async def run(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, work))
        return await future


def app_from_environment() -> Starlette:
    settings = Settings.from_env(dict(os.environ))
    secret = settings.secret_key.reveal()
    url = settings.database_url
    connections: queue.SimpleQueue[Any] = queue.SimpleQueue()
    if url.startswith("sqlite"):
        import sqlite3

        from sqlalchemy.dialects import sqlite as dialect_module

        path = url.split("///", 1)[1]
        for _ in range(POOL):
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA query_only=ON")
            connections.put(connection)
        sql = str(_LIVE_SESSION.compile(dialect=dialect_module.dialect()))
        begin: str | None = "BEGIN"
    else:
        import psycopg
        from sqlalchemy.dialects.postgresql import psycopg as dialect_module  # type: ignore[no-redef]

        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        for _ in range(POOL):
            reader = psycopg.connect(conninfo, autocommit=True)
            reader.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            connections.put(reader)
        sql = str(_LIVE_SESSION.compile(dialect=dialect_module.dialect()))
        begin = None  # autocommit: the statement alone

    def look_up(token_hash: bytes) -> bool:
        connection = connections.get()
        try:
            if begin is not None:
                connection.execute(begin)
            parameters: Any = (token_hash,) if begin is not None else {"token_hash": token_hash}
            found = connection.execute(sql, parameters).fetchone()
            if begin is not None:
                connection.commit()
            return found is not None
        finally:
            connections.put(connection)

    hops = _Hops(POOL)

    async def bare(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    async def session(request: Request) -> PlainTextResponse:
        token_hash = keyed_token_hash(secret, request.cookies.get(SESSION_COOKIE, ""))
        if begin is not None:  # SQLite: on the loop
            found = look_up(token_hash)
        else:
            found = await hops.run(partial(look_up, token_hash))
        return PlainTextResponse("signed in" if found else "signed out")

    return Starlette(
        routes=[Route("/bare", bare), Route("/session", session)],
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.secure_cookies),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
    )
