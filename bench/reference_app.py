"""Floors for bench/throughput.py: what a signed-in page costs before the portal's own code.

Served by the same server with the same settings as the portal and hello, on the portal's own
database (the ``PORTAL_*`` environment ``portal serve`` was given):

- ``/bare``: "hello" behind the portal's middleware (security headers, the body limit), on
  the event loop: the framework's share of every portal page;
- ``/session``: the same, plus what any signed-in request needs at the least: the session
  cookie's keyed hash, a hop to a worker thread, and there a read-only transaction on a pooled
  driver connection (``sqlite3`` or ``psycopg``, no SQLAlchemy) running the portal's session
  statement; it answers whether the session was found. No account is built, no rule judged,
  no CSRF token, no template.

The gap between ``/session`` and the portal's ``/healthz`` with a session cookie is the
portal's request boundary; between ``/session`` and ``/account``, the boundary and the page.
"""

from __future__ import annotations

import os
import queue
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portal.accounts.sessions import _LIVE_SESSION
from portal.protocol import token_hash as keyed_token_hash
from portal.security import SESSION_COOKIE, BodyLimitMiddleware, SecurityHeadersMiddleware
from portal.settings import Settings

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
            connections.put(psycopg.connect(conninfo))
        sql = str(_LIVE_SESSION.compile(dialect=dialect_module.dialect()))
        begin = None  # psycopg begins at the first statement

    def look_up(token_hash: bytes) -> bool:
        connection = connections.get()
        try:
            if begin is not None:
                connection.execute(begin)
            else:
                connection.execute("SET TRANSACTION READ ONLY")
            parameters: Any = (token_hash,) if begin is not None else {"token_hash": token_hash}
            found = connection.execute(sql, parameters).fetchone()
            connection.commit()
            return found is not None
        finally:
            connections.put(connection)

    async def bare(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    async def session(request: Request) -> PlainTextResponse:
        token_hash = keyed_token_hash(secret, request.cookies.get(SESSION_COOKIE, ""))
        found = await anyio.to_thread.run_sync(look_up, token_hash)
        return PlainTextResponse("signed in" if found else "signed out")

    return Starlette(
        routes=[Route("/bare", bare), Route("/session", session)],
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.secure_cookies),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
    )
