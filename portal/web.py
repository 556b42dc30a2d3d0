"""The request boundary: typed app state, the current session, rendering and the endpoint wrapper.

Endpoints are plain (synchronous) functions taking a :class:`Ctx`. The :func:`endpoint` wrapper
parses the body on the event loop, then runs the rest in a worker thread: the database work and
the argon2 verification never block the event loop. It owns the transaction (commit once, at the
end; roll back on any error), the CSRF check, the access rule and the mapping of errors to pages.
Work that must follow a successful commit only (deleting blobs) is queued with
:meth:`Ctx.after_commit`.

Bodies too large to hold (uploaded chunks) go through :func:`streaming_endpoint` instead: an
async handler that runs short transactions with :meth:`StreamCtx.run` and streams the body
itself, on the event loop, between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import partial
from typing import Any, Generic, TypeVar, cast

import anyio
from argon2 import PasswordHasher
from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from portal import loop_reads, protocol
from portal.accounts import sessions as account_sessions
from portal.accounts import steps as second_factor_steps
from portal.accounts.hashing import DummyVerifier, HashingSlots
from portal.accounts.models import Account, Role
from portal.accounts.sessions import Current
from portal.blobstore import BlobStore, ChunkConflict, ChunkTooLarge, waits_refused
from portal.db import NO_WAIT, READ_ONLY, RELAXED_COMMIT, ReadTransaction
from portal.errors import (
    BadInput,
    Conflict,
    Forbidden,
    NotSignedIn,
    PortalError,
    SecondFactorDue,
    Throttled,
    TooLarge,
)
from portal.factors import gate as second_factor_gate
from portal.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    BodyTooLarge,
    check_csrf,
    cookie_name,
    csrf_cookie_token,
    expected_csrf_token,
    new_csrf_token,
    session_csrf_token,
)
from portal.settings import Settings
from portal.templating import STATIC, TemplateHelper

log = logging.getLogger("portal.web")

SERVICE_NAME = "Restorative justice portal"

T = TypeVar("T")
# Writing requests handled at once by one process; the rest wait without holding a thread or a
# connection. SQLite runs one writer at a time anyway; on PostgreSQL this is plenty for a few
# cores, and leaves pooled connections for reads.
WRITERS_PER_PROCESS = 8
# Reading requests run at once by one process on PostgreSQL, each on the event loop in a
# greenlet waiting for the database server (loop_reads.py); the rest wait their turn, holding
# no connection. Each holds one of db.make_read_engine's pooled connections, which must never
# run out (the loop would wait for one). Not fewer: with four, under sixteen requests at once
# most took their turn only after waiting for it (one more trip through the loop each) and the
# loop often had nothing to do but sleep until the database answered one of its four; eight
# served 35-40 % more pages a second for a quarter less CPU each (bench/README.md, "Reads at
# once"). Not many more either: each is a connection to the database kept open.
READS_AT_ONCE = 8
# Reading requests of endpoints that wait on something else or read for long (reports, media
# chunks: ``endpoint(threads=True)``) run at once by one process, in anyio's threads: never on
# the loop, which they would stop while they wait, and apart from the pages' turns.
# Each holds a pooled connection while it runs: on PostgreSQL one of db.make_read_engine's
# (db.PG_READ_POOL_SIZE keeps one for each, and for each of READS_AT_ONCE); on SQLite one of
# the writers' pool (db.POOL_SIZE), which reads on the loop take only one at a time.
SLOW_READERS_PER_PROCESS = 4


@dataclass
class AppState:
    """Long-lived things built once in the lifespan and reached through ``request.app.state``."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # db.make_read_engine's, for requests that change nothing (see endpoint's ``writes``):
    # they run in a db.ReadTransaction.
    read_engine: Engine
    # The pages' templates for requests at the root (every request, as the portal is served),
    # and for a request below a root path (its fixed links as url_for calls: templating.py).
    jinja: Environment
    jinja_below_root: Callable[[], Environment]
    auth_hasher: PasswordHasher
    dummy_verifier: DummyVerifier
    blobs: BlobStore
    hashing: HashingSlots
    # What a new session of an account owes after its password (a step of
    # portal/accounts/steps.py, or None): factors.services.due_after_password, given by app.py.
    # Accounts starts the session, but the second factor sits above accounts.
    second_factor_due: Callable[[Session, Account], str | None]
    # The app's route paths (index_routes), here too: Starlette's ``app.state`` answers each
    # attribute through a Python ``__getattr__``, and every page asks.
    route_paths: RoutePaths
    # Threads for writing requests (see endpoint): fewer than the connection pool holds.
    writers: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(WRITERS_PER_PROCESS)
    )
    # Turns for reading requests on PostgreSQL, on the loop (READS_AT_ONCE). Made in the
    # lifespan, on the loop that serves them.
    read_turns: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(READS_AT_ONCE))
    # Turns for reading requests of ``endpoint(threads=True)``, in anyio's threads.
    slow_readers: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(SLOW_READERS_PER_PROCESS)
    )

    @property
    def reads_wait_on_loop(self) -> bool:
        """Whether reading requests on the loop wait there for a database server (PostgreSQL),
        each in a greenlet (loop_reads.py), rather than read a local file (SQLite)."""
        return self.read_engine.dialect.name != "sqlite"


def app_state(request: Request) -> AppState:
    return cast(AppState, request.app.state.portal)


class Access(Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed-in"


@dataclass
class Ctx:
    request: Request
    # The ORM session, or what opens it: a reading request's handler that never asks for
    # ``db`` (``/account`` reads nothing beyond its session) costs no ORM session at all.
    database: Session | Callable[[], Session]
    state: AppState
    current: Current | None
    fields: Fields
    csrf_token: str
    set_cookies: list[tuple[str, str, int | None]] = field(default_factory=list)
    clear_cookies: list[str] = field(default_factory=list)
    committed_hooks: list[Callable[[], None]] = field(default_factory=list)
    sent_hooks: list[Callable[[], object]] = field(default_factory=list)
    # A reading request's transaction on the driver (db.ReadTransaction), else None.
    transaction: ReadTransaction | None = None

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the transaction has committed, never after a rollback.

        Deleting blobs goes here: a rollback must not leave rows pointing at removed files.
        """
        self.committed_hooks.append(hook)

    def after_sending(self, work: Callable[[], object]) -> None:
        """Run ``work`` (synchronous, in a thread) once the answer is sent, if the request's
        transaction committed: what the answer need not wait for (keeping the home read)."""
        self.sent_hooks.append(work)

    def after_hashing(
        self, work: Callable[[], T], then: Callable[[Ctx, T], Response | AfterHashing[Any]]
    ) -> AfterHashing[T]:
        """Answer this to run argon2 outside any transaction, then carry on.

        This request's transaction commits first (what the handler did so far is kept: a
        sign-in attempt counted against the throttle, say); ``work`` (argon2 only, no database)
        then runs in ``state.hashing``; ``then(ctx, result)`` continues in a new transaction
        with the session resolved again, and answers. Cookies belong to ``then``.
        """
        return AfterHashing(work, then)

    @property
    def db(self) -> Session:
        """The request's ORM session, in the request's transaction (opened at first use)."""
        database = self.database
        if not isinstance(database, Session):
            database = self.database = database()
        return database

    @property
    def reader(self) -> Session | ReadTransaction:
        """Where a service that only reads runs its driver queries (db.DriverQuery.all): a
        reading request's transaction, without opening an ORM session for them (the
        facilitator's home); else the request's ORM session. The same transaction either way."""
        return self.transaction if self.transaction is not None else self.db

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def client_address(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    @property
    def is_htmx(self) -> bool:
        return is_htmx_request(self.request)

    def require_account(self) -> Account:
        return self.require_current().account

    def require_current(self) -> Current:
        """The signed-in session (always there behind ``Access.SIGNED_IN``)."""
        if self.current is None:
            raise NotSignedIn
        return self.current

    def url_for(self, name: str, **params: Any) -> str:
        return url_path(self.request, name, **params)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.render_text(template, **context), status_code=status_code)

    def render_text(self, template: str, **context: Any) -> str:
        return render_template(
            self.state,
            self.request,
            template,
            current=self.current,
            csrf_token=self.csrf_token,
            **context,
        )

    def redirect(
        self, name: str, *, params: dict[str, str] | None = None, **query: str
    ) -> RedirectResponse:
        """303 to the route ``name`` (path ``params``), with ``query`` as the query string."""
        url = URL(self.url_for(name, **(params or {})))
        if query:
            url = url.include_query_params(**query)
        return RedirectResponse(str(url), status_code=303)

    def query(self, name: str) -> str | None:
        if not self.request.scope.get("query_string"):
            return None  # most pages have none: no parsing, no QueryParams made
        return self.request.query_params.get(name)

    def navigate(self, url: str, **payload: Any) -> Response:
        """The action is done and the person goes to ``url`` next.

        htmx gets ``HX-Redirect`` (static/js/lib/responses.js replaces the one history entry
        with it); a JSON client gets ``payload`` with ``next``.
        """
        if self.is_htmx:
            return Response(status_code=200, headers={"HX-Redirect": url})
        return JSONResponse({**payload, "next": url})

    def partial(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A piece of a page for htmx to swap in (a page template includes the same file)."""
        return self.render(template, status_code=status_code, **context)


@dataclass(frozen=True)
class AfterHashing(Generic[T]):
    """A handler's answer that asks for argon2 work between two transactions (see
    :meth:`Ctx.after_hashing`)."""

    work: Callable[[], T]
    then: Callable[[Ctx, T], Response | AfterHashing[Any]]

    def continuation(self, result: T) -> Handler:
        return lambda ctx: self.then(ctx, result)


def url_path(request: Request, name: str, **params: Any) -> str:
    """The path of the route ``name``, as ``request.url_for(name, **params).path``."""
    route_paths: RoutePaths = request.app.state.route_paths
    return route_paths.path(request, name, params)


class RoutePaths:
    """Route paths by name and parameters, as Starlette's ``url_for`` gives them, kept.

    Starlette's own lookup tries every route in turn (each miss raising an exception): a page
    with ten links spent a quarter of its time there. Here routes are found by name once per
    application, and each path once per name and parameters (ids of cases and letters: the
    same path for everyone, nothing of whoever asked), up to KEPT of them. The request's
    ``root_path`` is put in front at each call, as Starlette does.
    tests/unit/test_web.py compares every route's path with Starlette's.
    """

    KEPT = 20_000

    def __init__(self, app: Starlette) -> None:
        self._app = app
        self._routes: dict[str, Route] = {
            route.name: route for route in app.routes if isinstance(route, Route)
        }
        self._paths: dict[Any, str] = {}
        # Templates' ``url_for`` for every request served at the root (see helper_for).
        self._at_root = TemplateHelper(self._path_at_root)

    def path(self, request: Request, name: str, params: Mapping[str, Any]) -> str:
        path = self._path(name, params)
        root_path = request.scope.get("root_path")
        return root_path + path if root_path else path

    def helper_for(self, request: Request) -> TemplateHelper:
        """``url_for`` for the templates of ``request``: one helper, made once, for every
        request served at the root (no ``root_path``, the usual case); else one of its own."""
        if not request.scope.get("root_path"):
            return self._at_root
        return TemplateHelper(lambda name, **params: self.path(request, name, params))

    def fixed_paths(self) -> dict[str, str]:
        """The path of each route without parameters (outside any Mount), by name."""
        return {
            name: route.path for name, route in self._routes.items() if not route.param_convertors
        }

    def _path_at_root(self, name: str, **params: Any) -> str:
        return self._path(name, params)

    def _path(self, name: str, params: Mapping[str, Any]) -> str:
        """The route's path without any ``root_path``."""
        key: Any = name
        if params:
            # Only plain strings are kept: 1, True and 1.0 are one key to a dict but not one
            # path (nor is a str subclass with its own idea of equality).
            strings = all(type(value) is str for value in params.values())
            key = (name, *params.items()) if strings else None
        path = self._paths.get(key) if key is not None else None
        if path is None:
            route = self._routes.get(name)
            if route is None:  # in a Mount: Starlette's own lookup, through the app's router
                return str(self._app.url_path_for(name, **params))
            path = str(route.url_path_for(name, **params))
            if key is not None and len(self._paths) < self.KEPT:
                self._paths[key] = path
        return path


class IndexedRouter(Router):
    """Starlette's router, which tries each route in turn for every request, with the routes
    that can match each fixed path (``/account``, ``/home``) found once, in their order.

    A request for such a path tries only those, which is the same answer: every route left out
    answers "no match" for that path whatever the request (its pattern does not match it).
    Any other path, or no full match among them (a 405, a slash to add), goes Starlette's way.
    """

    def __init__(self, routes: Sequence[BaseRoute], *, lifespan: Any) -> None:
        super().__init__(list(routes), lifespan=lifespan)
        fixed = [r.path for r in self.routes if isinstance(r, Route) and not r.param_convertors]
        self._by_path: dict[str, tuple[BaseRoute, ...]] = {
            path: tuple(route for route in self.routes if _may_match(route, path)) for path in fixed
        }

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            candidates = self._by_path.get(get_route_path(scope))
            if candidates is not None:
                for route in candidates:
                    match, child_scope = route.matches(scope)
                    if match is Match.FULL:
                        if "router" not in scope:
                            scope["router"] = self
                        scope["route"] = route
                        scope.update(child_scope)
                        await route.handle(scope, receive, send)
                        return
        await super().app(scope, receive, send)


class EndpointRoute(Route):
    """Starlette's route, whose asynchronous endpoint (every ``endpoint()`` and
    ``streaming_endpoint()``) is called without Starlette's per-request wrapper for exception
    handlers (two closures and one more layer around each message sent).

    That wrapper looks up the app's handlers for an exception the endpoint raises; the
    ExceptionMiddleware right outside the router looks them up the same way for anything
    raised here, and the one for ``Exception`` is ServerErrorMiddleware's in both cases.
    Endpoints answer their own errors anyway (``_run``). Anything else (a synchronous function,
    per-route middleware) is Starlette's route unchanged.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        if options.get("middleware") is None and inspect.iscoroutinefunction(endpoint):
            self.app = _answered_by(endpoint)


def _answered_by(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return answer


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether ``route`` could match a request for ``path`` (only a pattern that cannot match it
    rules a route out)."""
    if isinstance(route, Route | Mount):
        return route.path_regex.match(path) is not None
    return True


def index_routes(app: Starlette) -> None:
    """Prepare ``url_path``'s lookups for ``app`` (before it serves)."""
    app.state.route_paths = RoutePaths(app)


def render_template(state: AppState, request: Request, template: str, **context: Any) -> str:
    jinja = state.jinja_below_root() if request.scope.get("root_path") else state.jinja
    return jinja.get_template(template).render(
        url_for=state.route_paths.helper_for(request),
        static=STATIC,
        service_name=SERVICE_NAME,
        quick_exit_url=state.settings.quick_exit_url,
        session_warning_seconds=state.settings.session_warning_seconds,
        **context,
    )


def is_htmx_request(request: Request) -> bool:
    """A request made by htmx: it gets a partial, or a sentence for the form that asked."""
    return request.headers.get("hx-request") == "true"


def is_uuid4(value: object) -> bool:
    """A canonical (lowercase, hyphenated) version 4 UUID string: ids the browser may make."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return str(parsed) == value and parsed.version == 4


# ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
_DECIMAL = re.compile(r"[0-9]{1,18}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_unicode(text: str) -> bool:
    """No lone surrogates (JSON can carry them; UTF-8 and the protocol cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Fields:
    """Typed access to a JSON object or form body, raising BadInput with the field's name."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def raw(self, name: str) -> Any:
        return self._data.get(name)

    def text(self, name: str, *, max_length: int, required: bool = True) -> str:
        value = self._data.get(name)
        if value is None or value == "":
            if required:
                raise BadInput("Please fill in this field.", field=name)
            return ""
        if not isinstance(value, str) or not _is_unicode(value):
            raise BadInput(field=name)
        if len(value) > max_length:
            raise BadInput(f"Please use at most {max_length} characters.", field=name)
        return value

    def binary(self, name: str, *, length: int | None = None, max_length: int = 4096) -> bytes:
        text = self.text(name, max_length=max_length * 2)
        try:
            value = protocol.b64decode(text)
        except protocol.ProtocolError:
            raise BadInput(field=name) from None
        if length is not None and len(value) != length:
            raise BadInput(field=name)
        if len(value) > max_length:
            raise BadInput(field=name)
        return value

    def uuid4(self, name: str) -> str:
        value = self._data.get(name)
        if not is_uuid4(value):
            raise BadInput(field=name)
        return str(value)

    def optional_uuid4(self, name: str) -> str | None:
        return None if self._data.get(name) is None else self.uuid4(name)

    def integer(self, name: str, *, minimum: int, maximum: int) -> int:
        value = self._data.get(name)
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(field=name)
        if not minimum <= value <= maximum:
            raise BadInput(field=name)
        return value

    def flag(self, name: str) -> bool:
        """A tick box: JSON ``true``/``false``; a form sends "yes" when ticked and nothing when
        not."""
        value = self._data.get(name)
        if value is None or value is False or value == "":
            return False
        if value is True or value == "yes":
            return True
        raise BadInput(field=name)

    def optional_day(self, name: str) -> date | None:
        """A date as an ``<input type="date">`` sends it (YYYY-MM-DD), or None when empty."""
        value = self._data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise BadInput("Enter a date such as 2027-03-31.", field=name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadInput("Enter a date that exists.", field=name) from None

    def choice(self, name: str, allowed: Mapping[str, Any]) -> Any:
        value = self._data.get(name)
        if not isinstance(value, str) or value not in allowed:
            raise BadInput("Please choose one of the options.", field=name)
        return allowed[value]


Handler = Callable[[Ctx], "Response | AfterHashing[Any]"]


def endpoint(
    access: Access = Access.SIGNED_IN,
    *,
    roles: frozenset[Role] | None = None,
    touch: bool = True,
    api: bool = False,
    writes: bool | None = None,
    database: bool = True,
    threads: bool = False,
    before_second_factor: frozenset[str] = frozenset(),
) -> Callable[[Handler], Callable[[Request], Any]]:
    """Wrap a synchronous handler as a Starlette endpoint.

    ``access`` and ``roles`` are the route-level rule (signed in, which roles). Rules about a
    particular resource (whose case, whose invitation) live in that domain's ``policy.py``.
    ``touch=False`` for requests that must not extend an idle session (status polling).
    ``api`` selects JSON errors instead of error pages.

    ``writes`` says whether the handler may change anything. By default a GET or HEAD changes
    nothing and runs in a read-only transaction (no write lock on SQLite; the database refuses
    a write in it, so a GET that writes fails loudly in the tests); every other method writes.
    A GET that must write says ``writes=True``.

    ``database=False`` (a public page that never reads the database: ``/healthz``) answers a
    GET without a session cookie on the event loop, with no worker thread, transaction or
    connection: nothing there can block, and the hop to a thread and back cost more than the
    rest of such a request. With a session cookie it goes the usual way, since the cookie's
    session must be looked up to know which CSRF token the page gets.

    Where a reading request runs: on the event loop. On SQLite as it is: a read there is a
    read of a local file that takes no lock and waits for no writer (WAL), so a thread bought
    nothing but the GIL passed between two threads on two cores at every step, which cost about
    as much CPU as the page itself (bench/README.md, "Reading requests on the event loop"). On
    PostgreSQL in a greenlet whose waits for the database server are the loop's, so the loop
    serves others meanwhile (loop_reads.py; at most READS_AT_ONCE). ``threads=True`` keeps an
    endpoint's reading requests in a thread on either database, taking turns apart from the
    pages' (``SLOW_READERS_PER_PROCESS``): its handler waits on something else (the blob store,
    which may be an object store over the network) or reads for long (reports over a whole
    year). On the loop, the session's due write (its last-seen time or its end) is
    made once the answer is sent, in a thread (it may wait for the write lock and an fsync).

    ``before_second_factor`` names the steps (portal/accounts/steps.py) a session that still owes
    its second factor may take here; by default none, so every other endpoint refuses it
    (portal/factors/gate.py).
    """
    if database is False and access is not Access.PUBLIC:
        raise ValueError("a page for signed-in people reads their session from the database")

    rule = _Rule(access, roles, before_second_factor)

    def decorate(handler: Handler) -> Callable[[Request], Any]:
        async def asgi_endpoint(request: Request) -> Response:
            wants_json = (api or request.scope["path"].startswith("/api/")) and not is_htmx_request(
                request
            )
            writing = writes if writes is not None else request.method not in {"GET", "HEAD"}
            state = app_state(request)
            if (
                not database
                and not writing
                and request.method in {"GET", "HEAD"}
                and session_cookie(request, state.settings) is None
            ):
                return _answer_signed_out(handler, request, state, wants_json)
            try:
                data = await _read_body(request)
            except PortalError as error:
                return error_response(request, error, wants_json=wants_json)
            # Writing requests take turns for a few threads of their own: on SQLite they queue
            # for the one write lock, and queued there each would hold a request thread and a
            # pooled connection, until pages that only read found none left.
            # Reading requests run on the loop (in a greenlet on PostgreSQL: loop_reads.py);
            # slow ones in threads apart; see the docstring.
            step: Handler = handler
            on_loop = not writing and not threads
            while True:
                work = partial(
                    _run, step, request, state, data, rule, touch, wants_json, writing, on_loop
                )
                if writing:
                    answer = await anyio.to_thread.run_sync(work, limiter=state.writers)
                elif threads:
                    answer = await anyio.to_thread.run_sync(work, limiter=state.slow_readers)
                elif state.reads_wait_on_loop:
                    async with state.read_turns:
                        answer = await loop_reads.run(work)
                else:
                    answer = work()
                if not isinstance(answer, AfterHashing):
                    return answer
                # Between two transactions: no connection, lock or request thread is held.
                step = answer.continuation(await state.hashing.run(answer.work))

        asgi_endpoint.__name__ = handler.__name__
        asgi_endpoint.__doc__ = handler.__doc__
        return asgi_endpoint

    return decorate


async def _read_body(request: Request) -> dict[str, Any]:
    if request.method in {"GET", "HEAD"}:
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if not body:
            return {}
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
            raise BadInput("The request could not be read.") from None
        if not isinstance(parsed, dict):
            raise BadInput("The request could not be read.")
        return parsed
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        try:
            form = await request.form(max_files=0, max_fields=100)
        except Exception:  # noqa: BLE001  (any parser failure is the sender's malformed input)
            raise BadInput("The form could not be read.") from None
        values: dict[str, Any] = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                continue
            if key not in values:
                values[key] = value
            elif isinstance(values[key], list):
                values[key].append(value)
            else:
                values[key] = [values[key], value]
        await form.close()
        return values
    if content_type == "":
        return {}
    raise BadInput("The request could not be read.")


def _answer_signed_out(
    handler: Handler, request: Request, state: AppState, wants_json: bool
) -> Response:
    """A GET without a session cookie for a handler that never reads the database (see
    ``endpoint``'s ``database``), on the event loop: the CSRF cookie is kept as :func:`_run`
    keeps it, and the handler gets a database session bound to nothing (any query in it fails
    at once, never silently)."""
    settings = state.settings
    signed_out_csrf = csrf_cookie_token(request, secure=settings.secure_cookies)
    csrf_token = signed_out_csrf or new_csrf_token()
    # Bound to nothing, so never given a connection; not closed either (closing an empty
    # session cost a fifth of this answer), it goes with the request.
    unbound = Session()
    handled = Ctx(request, unbound, state, None, Fields({}), csrf_token)
    ctx: Ctx | None = handled
    try:
        answer = handler(handled)
    except PortalError as error:
        answer = _refusal(request, error, wants_json, None, csrf_token, None)
        ctx = None
    if not isinstance(answer, Response):
        raise TypeError("a handler without the database cannot ask for argon2 work")
    if ctx is not None:
        for name, value, max_age in ctx.set_cookies:
            _set_cookie(answer, settings, name, value, max_age)
        for name in ctx.clear_cookies:
            _delete_cookie(answer, settings, name)
    _keep_csrf_cookie(answer, settings, ctx, csrf_token, signed_out_csrf)
    return answer


@dataclass(frozen=True)
class _Rule:
    """An endpoint's route-level rule: who may call it, and before which owed step."""

    access: Access
    roles: frozenset[Role] | None
    before_second_factor: frozenset[str]


def _run(
    handler: Handler,
    request: Request,
    state: AppState,
    data: dict[str, Any],
    rule: _Rule,
    touch: bool,
    wants_json: bool,
    writing: bool,
    on_loop: bool = False,
) -> Response | AfterHashing[Any]:
    settings = state.settings
    secret = settings.secret_key.reveal()
    session_token = session_cookie(request, settings)
    # What this request must carry (security.py): bound to its session, if it names one.
    expected_csrf = expected_csrf_token(request, secret, secure=settings.secure_cookies)
    signed_out_csrf = csrf_cookie_token(request, secure=settings.secure_cookies)
    # One transaction per request, session and account resolved in it with one query.
    resolution = account_sessions.SIGNED_OUT
    resolved = False  # a server failure must not be taken for an ended session
    session_kept = False  # the session row's due write (resolution.needs_write) is committed
    later: AfterHashing[Any] | None = None
    # A writing request works in an ORM session; a reading one in a transaction on the driver,
    # with an ORM session only if its handler asks for one (db.ReadTransaction).
    db: Session | ReadTransaction = (
        state.sessions() if writing else ReadTransaction(state.read_engine)
    )
    with db:
        current: Current | None = None
        # The token rendered into pages: the session's once it is known to be live.
        csrf_token = signed_out_csrf or new_csrf_token()
        try:
            if isinstance(db, Session):
                resolution = account_sessions.resolve(db, settings, session_token, touch=touch)
            else:
                resolution = account_sessions.resolve_reading(
                    db, settings, session_token, touch=touch
                )
            current = resolution.current
            resolved = True
            if current is not None and session_token is not None:
                # The token bound to this session: computed above unless the cookie is odd.
                csrf_token = expected_csrf or session_csrf_token(secret, session_token)
            if isinstance(db, Session) and resolution.needs_write:  # a writing request
                account_sessions.keep(db, resolution)
                if resolution.end_reason is not None:
                    # The session ended whatever this request does: keep that even if we
                    # refuse below.
                    db.commit()
                    session_kept = True
            fields = Fields(data)
            submitted = data.get(CSRF_FIELD)
            check_csrf(request, submitted if isinstance(submitted, str) else None, expected_csrf)
            if rule.access is Access.SIGNED_IN and current is None:
                raise NotSignedIn
            second_factor_gate.check(current, rule.before_second_factor)
            if rule.roles is not None and (
                current is None or current.account.role not in rule.roles
            ):
                raise Forbidden
            ctx = Ctx(
                request,
                _orm_session(db, current),
                state,
                current,
                fields,
                csrf_token,
                transaction=db if isinstance(db, ReadTransaction) else None,
            )
            # On the loop nothing may wait on the blob store (blobstore.off_the_loop).
            with waits_refused() if on_loop else contextlib.nullcontext():
                answer = handler(ctx)
            db.commit()
            session_kept = session_kept or writing
            _run_committed_hooks(ctx)
            if isinstance(answer, AfterHashing):
                later = answer
                response = Response(status_code=204)  # never sent: ``later`` answers
            else:
                response = answer
        except PortalError as error:
            if error.keeps_changes:
                db.commit()
                session_kept = session_kept or writing
            else:
                db.rollback()
            response = _refusal(request, error, wants_json, current, csrf_token, session_token)
            ctx = None
        except protocol.ProtocolError:
            # Malformed bytes or text that reached a protocol function (a lone surrogate in a
            # name, say): the sender's fault, and nothing was kept.
            db.rollback()
            response = _refusal(
                request,
                BadInput("The request could not be read."),
                wants_json,
                current,
                csrf_token,
                session_token,
            )
            ctx = None
        except Exception:
            db.rollback()
            error_id = uuid.uuid4().hex[:12]
            # Only the error's id, route and type: never the body (ciphertext, names).
            log.exception("unhandled error %s on %s %s", error_id, request.method, request.url.path)
            response = server_error_response(request, error_id, wants_json=wants_json)
            ctx = None
    keep_after: Callable[[], None] | None = None
    if resolution.needs_write and not session_kept:
        # A read-only request (or a writing one that rolled back): the session's due write is a
        # short transaction of its own, after the request's.
        if on_loop and later is None:
            # After the answer is sent, in a thread: a write waits for SQLite's lock (an end)
            # and for its commit's fsync, and the loop must never wait.
            keep_after = partial(_keep_session_apart, state, resolution)
        else:
            _keep_session_apart(state, resolution)
    if later is not None:
        return later
    set_names = set()
    if ctx is not None:
        for name, value, max_age in ctx.set_cookies:
            _set_cookie(response, settings, name, value, max_age)
            set_names.add(name)
        for name in ctx.clear_cookies:
            _delete_cookie(response, settings, name)
            set_names.add(name)
    ended = resolved and current is None and session_token
    if ended and SESSION_COOKIE not in set_names:
        # The cookie names a session that has ended: drop it.
        _delete_cookie(response, settings, SESSION_COOKIE)
    _keep_csrf_cookie(response, settings, ctx, csrf_token, signed_out_csrf)
    if keep_after is not None:
        _after_sending(response, keep_after)
    if ctx is not None:
        for work in ctx.sent_hooks:
            _after_sending(response, work)
    return response


def _keep_session_apart(state: AppState, resolution: account_sessions.Resolved) -> None:
    """:func:`_keep_session` in a transaction of its own."""
    with state.sessions() as db:
        _keep_session(db, resolution)


def _after_sending(response: Response, work: Callable[[], object]) -> None:
    """Run ``work`` (synchronous) in a thread once ``response`` is sent."""
    task = BackgroundTask(work)
    if response.background is None:
        response.background = task
    else:
        response.background = BackgroundTasks([response.background, task])


def _orm_session(
    db: Session | ReadTransaction, current: Current | None
) -> Session | Callable[[], Session]:
    """The handler's ORM session: ``db``, or what opens one in the reading transaction ``db``
    (with the session's account in it, as if loaded there)."""
    if isinstance(db, Session):
        return db
    if current is None:
        return db.session
    account = current.account
    return partial(db.session, lambda session: account_sessions.attach(session, account))


def _keep_session(db: Session, resolution: account_sessions.Resolved) -> None:
    """Write the session row's due change (its end, or its last-seen time) in a transaction of
    its own. A failure here is logged, never the request's: a lost touch costs nothing, and an
    ended session is found ended again by its next request.

    A touch never waits for SQLite's write lock: a page that only reads must not queue behind a
    burst of writers (sign-ins, uploads) to move a time that the next request moves anyway.
    """
    touch_only = resolution.end_reason is None
    try:
        if touch_only:
            db.connection(execution_options={NO_WAIT: True})
        account_sessions.keep(db, resolution)
        db.commit()
    except OperationalError:
        db.rollback()
        if touch_only:
            log.debug("the session's last-seen time waits for its next request (database busy)")
        else:
            log.exception("could not record the session's end")
    except Exception:
        db.rollback()
        log.exception("could not record the session's last-seen time or end")


def _refusal(
    request: Request,
    error: PortalError,
    wants_json: bool,
    current: Current | None,
    csrf_token: str,
    session_token: str | None,
) -> Response:
    if isinstance(error, SecondFactorDue) and not wants_json:
        step = url_path(
            request,
            "second_factor_page" if error.step == second_factor_steps.VERIFY else "factors_page",
        )
        if is_htmx_request(request):
            return Response(status_code=200, headers={"HX-Redirect": step})
        return RedirectResponse(step, status_code=303)
    if isinstance(error, NotSignedIn) and not wants_json:
        sign_in = str(
            URL(url_path(request, "sign_in_page")).include_query_params(
                reason="expired" if session_token else "signin"
            )
        )
        if is_htmx_request(request):
            return Response(status_code=200, headers={"HX-Redirect": sign_in})
        if request.method == "GET":
            return RedirectResponse(sign_in, status_code=303)
        return error_response(request, error, wants_json=False, current=None, csrf_token=csrf_token)
    return error_response(
        request, error, wants_json=wants_json, current=current, csrf_token=csrf_token
    )


def _keep_csrf_cookie(
    response: Response,
    settings: Settings,
    ctx: Ctx | None,
    rendered: str,
    in_cookie: str | None,
) -> None:
    """Leave in the CSRF cookie the token the next request will be checked against.

    A new session (signing in, joining, recovering) binds it to that session; ending the
    session (signing out) replaces it with a fresh random one; otherwise it is the token this
    response rendered.
    """
    secret = settings.secret_key.reveal()
    token = rendered
    for name, value, _max_age in ctx.set_cookies if ctx is not None else []:
        if name == SESSION_COOKIE:
            token = session_csrf_token(secret, value)
    if ctx is not None and SESSION_COOKIE in ctx.clear_cookies:
        token = new_csrf_token()
    if token != in_cookie:
        _set_cookie(response, settings, CSRF_COOKIE, token, None)


def session_cookie(request: Request, settings: Settings) -> str | None:
    """The session cookie's token, under its name for this service (``__Host-`` over HTTPS)."""
    return request.cookies.get(cookie_name(SESSION_COOKIE, secure=settings.secure_cookies))


def _run_committed_hooks(ctx: Ctx) -> None:
    for hook in ctx.committed_hooks:
        try:
            hook()
        except Exception:
            log.exception("after-commit cleanup failed on %s", ctx.request.url.path)


@dataclass
class StreamCtx:
    """A streaming request: short transactions around a body read straight from the socket."""

    request: Request
    state: AppState
    roles: frozenset[Role] | None

    @property
    def blobs(self) -> BlobStore:
        return self.state.blobs

    async def run(
        self,
        work: Callable[[Ctx], T],
        *,
        touch: bool = False,
        read_only: bool = False,
        relaxed_commit: bool = False,
        first: Callable[[], object] | None = None,
    ) -> T:
        """``work`` in a worker thread, in a transaction of its own, committed at its end.

        The session is resolved (and the role checked) afresh each time, so a session that
        ended while the body streamed cannot record anything. ``read_only`` work (which must
        not write, so ``touch`` is off) takes no write lock: on SQLite, concurrent uploads
        would otherwise queue for it twice per chunk. ``first``, blocking work that must be
        done before ``work`` (the blob store's fsyncs), runs in the same worker thread before
        the transaction begins: one trip to a thread for both, and never an fsync inside a
        transaction (on SQLite, under the write lock).
        """
        if read_only and touch:
            raise ValueError("a read-only transaction cannot touch the session")
        return await run_in_threadpool(
            self._run_sync, work, touch, read_only, relaxed_commit, first
        )

    def _run_sync(
        self,
        work: Callable[[Ctx], T],
        touch: bool,
        read_only: bool,
        relaxed_commit: bool,
        first: Callable[[], object] | None,
    ) -> T:
        if first is not None:
            first()
        settings = self.state.settings
        token = session_cookie(self.request, settings)
        csrf_token = session_csrf_token(settings.secret_key.reveal(), token) if token else ""
        with self.state.sessions() as db:
            resolution = account_sessions.SIGNED_OUT
            try:
                if read_only or relaxed_commit:
                    connection = db.connection(
                        execution_options={READ_ONLY: read_only, RELAXED_COMMIT: relaxed_commit}
                    )
                    if relaxed_commit and connection.dialect.name == "postgresql":
                        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                resolution = account_sessions.resolve(db, settings, token, touch=touch)
                current = resolution.current
                if current is None:
                    raise NotSignedIn
                second_factor_gate.check(current, second_factor_steps.NOTHING_DUE)
                if self.roles is not None and current.account.role not in self.roles:
                    raise Forbidden
                if resolution.needs_write:  # never read_only: touch is off there
                    account_sessions.keep(db, resolution)
                ctx = Ctx(self.request, db, self.state, current, Fields({}), csrf_token)
                result = work(ctx)
                db.commit()
            except BaseException:
                db.rollback()
                if resolution.end_reason is not None:
                    # Ended whatever this request does: kept although it is refused.
                    with self.state.sessions() as keeper:
                        _keep_session(keeper, resolution)
                raise
        _run_committed_hooks(ctx)
        return result


StreamHandler = Callable[[StreamCtx], Awaitable[Response]]


def streaming_endpoint(
    *, roles: frozenset[Role] | None = None
) -> Callable[[StreamHandler], Callable[[Request], Any]]:
    """Wrap an async handler that reads the request body as a stream (JSON API only).

    The CSRF token must come in the ``X-CSRF-Token`` header: the body is not a form. The body is
    never read here; the handler passes ``request.stream()`` on, piece by piece. Blob store
    errors map to HTTP in this one place: a conflicting chunk is 409, an oversized one 413.
    """

    def decorate(handler: StreamHandler) -> Callable[[Request], Any]:
        async def asgi_endpoint(request: Request) -> Response:
            try:
                settings = app_state(request).settings
                expected = expected_csrf_token(
                    request, settings.secret_key.reveal(), secure=settings.secure_cookies
                )
                check_csrf(request, None, expected)
                return await handler(StreamCtx(request, app_state(request), roles))
            except PortalError as error:
                return error_response(request, error, wants_json=True)
            except ChunkConflict:
                return error_response(
                    request,
                    Conflict("Different bytes were already uploaded for this part of the message."),
                    wants_json=True,
                )
            except ChunkTooLarge:
                return error_response(
                    request,
                    TooLarge("That piece of the message is larger than allowed. It was not kept."),
                    wants_json=True,
                )
            except BodyTooLarge:
                raise  # BodyLimitMiddleware answers it
            except ClientDisconnect:
                # The browser went away mid-chunk; the blob store kept nothing. Nobody reads this.
                return Response(status_code=400)
            except Exception:
                error_id = uuid.uuid4().hex[:12]
                log.exception(
                    "unhandled error %s on %s %s", error_id, request.method, request.url.path
                )
                return server_error_response(request, error_id, wants_json=True)

        asgi_endpoint.__name__ = handler.__name__
        asgi_endpoint.__doc__ = handler.__doc__
        return asgi_endpoint

    return decorate


def _delete_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        cookie_name(name, secure=settings.secure_cookies),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


# The cookie values the portal makes: URL-safe base64 tokens, which need no quoting.
_PLAIN_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def _set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int | None
) -> None:
    """Set a cookie HttpOnly, SameSite=Strict, Path=/ (Secure and ``__Host-`` over HTTPS).

    A token's header is written here as Starlette writes it (tests/http/test_security_baseline
    compares them): every answer to a visitor without a CSRF cookie sets one, and Starlette's
    way through ``http.cookies`` cost more than the rest of such an answer (/healthz).
    """
    full_name = cookie_name(name, secure=settings.secure_cookies)
    if not _PLAIN_COOKIE_VALUE.fullmatch(value):
        # Anything else goes through Starlette, which quotes it.
        response.set_cookie(
            full_name,
            value,
            max_age=max_age,
            path="/",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )
        return
    header = f"{full_name}={value}; HttpOnly"
    if max_age is not None:
        header += f"; Max-Age={max_age}"
    header += "; Path=/; SameSite=strict"
    if settings.secure_cookies:
        header += "; Secure"
    response.raw_headers.append((b"set-cookie", header.encode("latin-1")))


def error_response(
    request: Request,
    error: PortalError,
    *,
    wants_json: bool,
    current: Current | None = None,
    csrf_token: str | None = None,
) -> Response:
    headers: dict[str, str] = {}
    payload: dict[str, Any] = {"error": error.message}
    if error.field:
        payload["field"] = error.field
    if isinstance(error, SecondFactorDue):
        payload["second_factor"] = error.step
    if isinstance(error, Throttled):
        headers["Retry-After"] = str(error.retry_after)
        payload["retry_after"] = error.retry_after
    if wants_json:
        return JSONResponse(payload, status_code=error.status_code, headers=headers)
    if is_htmx_request(request):
        # static/js/lib/responses.js puts this sentence next to the form's input the error names
        # (X-Field: the field's name, never anything typed into it), else in the alert region of
        # the form that asked.
        if error.field:
            headers["X-Field"] = error.field
        text = render_template(
            app_state(request), request, "partials/form_error.html", message=error.message
        )
        return HTMLResponse(text, status_code=error.status_code, headers=headers)
    text = render_template(
        app_state(request),
        request,
        "errors/error.html",
        status_code=error.status_code,
        message=error.message,
        current=current,
        csrf_token=csrf_token or _page_csrf(request),
    )
    return HTMLResponse(text, status_code=error.status_code, headers=headers)


def _page_csrf(request: Request) -> str:
    settings = app_state(request).settings
    return (
        expected_csrf_token(request, settings.secret_key.reveal(), secure=settings.secure_cookies)
        or ""
    )


def server_error_response(request: Request, error_id: str, *, wants_json: bool) -> Response:
    message = (
        "Something went wrong on our side and nothing was changed. Please try again in a "
        f"moment. If it keeps happening, tell your facilitator this reference: {error_id}."
    )
    if wants_json:
        return JSONResponse({"error": message}, status_code=500)
    try:
        text = render_template(
            app_state(request),
            request,
            "errors/error.html",
            status_code=500,
            message=message,
            current=None,
            csrf_token=_page_csrf(request),
        )
    except Exception:  # noqa: BLE001  (the error page itself must never fail)
        text = message
    return HTMLResponse(text, status_code=500)
