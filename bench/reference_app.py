"""Floors for bench/throughput.py: what a signed-in page costs before the portal's own code.

Served by the same server with the same settings as the portal and hello, on the portal's own
database (the ``PORTAL_*`` environment ``portal serve`` was given):

- ``/bare``: "hello" behind the portal's middleware (security headers, the body limit), on
  the event loop: the framework's share of every portal page;
- ``/session``: the same, plus what any signed-in request needs at the least: the session
  cookie's keyed hash and the portal's session statement on a pooled driver connection
  (``sqlite3`` or ``psycopg``, no SQLAlchemy), read-only, the cheapest way known for each
  database: on SQLite on the event loop in a read transaction (BEGIN, the statement, COMMIT);
  on PostgreSQL after a hop to a worker thread (``threads.ReadingThreads``, as the portal's
  reading requests take), the statement alone in autocommit on a session that reads only by
  default (one round trip). It answers whether the session was found. No account is built, no
  rule judged, no CSRF token, no template.

The gap between ``/session`` and the portal's ``/healthz`` with a session cookie is the
portal's request boundary; between ``/session`` and ``/account``, the boundary and the page.
"""

from __future__ import annotations

import os
import queue
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portal.accounts.sessions import _LIVE_SESSION
from portal.protocol import token_hash as keyed_token_hash
from portal.security import SESSION_COOKIE, BodyLimitMiddleware, SecurityHeadersMiddleware
from portal.settings import Settings
from portal.threads import ReadingThreads
from portal.web import READING_THREADS

POOL = 16


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

    # The portal's own lean hop (a loop future settled from a thread taking work off a queue),
    # in as many threads as the portal's.
    hops = ReadingThreads(READING_THREADS, name="reference-reader")

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
