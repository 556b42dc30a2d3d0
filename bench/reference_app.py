"""Floors for bench/throughput.py: what a signed-in page costs before the portal's own code.

Served by the same server with the same settings as the portal and hello, on the portal's own
database (the ``PORTAL_*`` environment ``portal serve`` was given):

- ``/bare``: "hello" behind the portal's middleware (security headers, the body limit), on
  the event loop: the framework's share of every portal page;
- ``/session``: the same, plus what any signed-in request needs at the least: the session
  cookie's keyed hash and the portal's session statement on a pooled driver connection
  (``sqlite3`` or ``psycopg``, no SQLAlchemy), read-only, the cheapest way known for each
  database: on SQLite on the event loop in a read transaction (BEGIN, the statement, COMMIT);
  on PostgreSQL on the event loop too, in a greenlet whose waits for the server are the loop's
  (``loop_reads.run`` and ``LoopConnection``, at most as many at once as the portal's reading
  requests), the statement alone in autocommit on a session that reads only by default (one
  round trip), run as the portal runs it (``LoopConnection.rows``: prepared once per
  connection, no cursor), its values as the driver gives them. It answers whether the
  session was found (403 when not). No account is built, no rule judged, no CSRF token, no
  template;
- ``/home``: ``/session``, then in the same turn and on the same connection the facilitator's
  home's one statement (portal/workspace/facilitator_home.HOME, as compiled for the portal)
  for the session's account: what the home asks of the database, and nothing the portal does
  with the answer (no rows made into the page's lists, no template). It answers the number of
  rows.

The gap between ``/session`` and the portal's ``/healthz`` with a session cookie is the
portal's request boundary; between ``/session`` and ``/account``, the boundary and the page;
between ``/home`` here and the portal's ``/home``, the boundary and the page's Python.
"""

from __future__ import annotations

import asyncio
import os
import queue
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from portal import loop_reads
from portal.accounts.models import Account
from portal.accounts.sessions import _LIVE_SESSION, _LIVE_SESSION_ON_DRIVER
from portal.cases import path
from portal.protocol import token_hash as keyed_token_hash
from portal.security import SESSION_COOKIE, BodyLimitMiddleware, SecurityHeadersMiddleware
from portal.settings import Settings
from portal.web import READS_AT_ONCE
from portal.workspace.facilitator_home import HOME, home_parameters

# One connection per reading request at once, as the portal's: a larger pool taken in turn (a
# FIFO) spreads the requests over connections that each plan and cache the home's statement
# for themselves, and over more PostgreSQL backends.
POOL = READS_AT_ONCE


def app_from_environment() -> Starlette:
    settings = Settings.from_env(dict(os.environ))
    secret = settings.secret_key.reveal()
    url = settings.database_url
    connections: queue.SimpleQueue[Any] = queue.SimpleQueue()
    if url.startswith("sqlite"):
        import sqlite3

        from sqlalchemy.dialects import sqlite as dialect_module

        database_file = url.split("///", 1)[1]
        for _ in range(POOL):
            connection = sqlite3.connect(
                database_file, check_same_thread=False, isolation_level=None
            )
            connection.execute("PRAGMA query_only=ON")
            connections.put(connection)
        dialect = dialect_module.dialect()
        begin: str | None = "BEGIN"
    else:
        from sqlalchemy.dialects.postgresql import psycopg as dialect_module  # type: ignore[no-redef]

        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        for _ in range(POOL):
            reader = loop_reads.LoopConnection.connect(conninfo, autocommit=True)
            reader.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            reader.on_loop = True
            connections.put(reader)
        dialect = dialect_module.dialect()
        begin = None  # autocommit: the statement alone

    sql = str(_LIVE_SESSION.compile(dialect=dialect))
    # On PostgreSQL as the portal runs it (LoopConnection.rows: prepared once per connection,
    # no cursor), its numbered SQL.
    numbered = _LIVE_SESSION_ON_DRIVER._compiled(dialect).sql_bytes
    # Where the account's id is in the session statement's row.
    account_id_at = list(_LIVE_SESSION.selected_columns).index(Account.__table__.c.id)
    home = HOME._compiled(dialect)

    def look_up(token_hash: bytes, *, and_home: bool = False) -> str:
        connection = connections.get()
        try:
            if begin is not None:
                connection.execute(begin)
                found = connection.execute(sql, (token_hash,)).fetchone()
            else:
                found = next(iter(connection.rows(numbered, [token_hash])), None)
            answer = "signed in" if found is not None else "signed out"
            if found is not None and and_home:
                asked = home_parameters(found[account_id_at], path.today())
                answer = f"{len(home.all(connection, asked))} rows"
            if begin is not None:
                connection.commit()
            return answer
        finally:
            connections.put(connection)

    # As many at once as the pool holds, as the portal's turns: a read on the loop must never
    # wait for a connection.
    turns = asyncio.Semaphore(POOL)

    async def bare(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    async def read(request: Request, *, and_home: bool) -> PlainTextResponse:
        token_hash = keyed_token_hash(secret, request.cookies.get(SESSION_COOKIE, ""))
        if begin is not None:  # SQLite: on the loop
            answer = look_up(token_hash, and_home=and_home)
        else:
            async with turns:
                answer = await loop_reads.run(partial(look_up, token_hash, and_home=and_home))
        # Refused when the session was not found, so wrk counts it among the errors
        # throughput.py prints, rather than a floor measuring a cheaper path unnoticed.
        return PlainTextResponse(answer, status_code=403 if answer == "signed out" else 200)

    return Starlette(
        routes=[
            Route("/bare", bare),
            Route("/session", partial(read, and_home=False)),
            Route("/home", partial(read, and_home=True)),
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.secure_cookies),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
    )
