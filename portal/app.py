"""create_app: the Starlette application, built from typed settings."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from portal import local_time, maintenance
from portal.accounts.hashing import DummyVerifier, HashingSlots, make_hasher
from portal.blobstore import open_blob_store
from portal.db import dispose_read_engine, make_engine, make_read_engine, make_session_factory
from portal.errors import BadInput, Forbidden, NotFound, PortalError
from portal.factors import services as factors
from portal.logs import configure_logging
from portal.media.batches import MAX_BATCH_BYTES
from portal.routes import UPLOAD_CHUNK_PATTERN, routes
from portal.security import BodyLimit, BodyLimitMiddleware, SecurityHeadersMiddleware
from portal.settings import Settings
from portal.templating import make_jinja
from portal.web import (
    AppState,
    IndexedRouter,
    error_response,
    index_routes,
    server_error_response,
)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
log = logging.getLogger("portal.app")


def create_app(settings: Settings) -> Starlette:
    configure_logging(settings)
    local_time.use(local_time.zone_named(settings.time_zone))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        hasher = make_hasher(settings.auth_hash_profile)
        state = AppState(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            read_engine=make_read_engine(engine),
            jinja=make_jinja(str(TEMPLATES_DIR), app.state.route_paths.fixed_paths()),
            jinja_below_root=functools.cache(lambda: make_jinja(str(TEMPLATES_DIR), {})),
            auth_hasher=hasher,
            dummy_verifier=DummyVerifier(hasher),
            blobs=open_blob_store(settings),
            hashing=HashingSlots(),
            second_factor_due=factors.due_after_password,
            route_paths=app.state.route_paths,
        )
        app.state.portal = state
        # The periodic jobs; leases in the database make each run once per period for the
        # whole service, however many server processes there are.
        maintainer = asyncio.create_task(
            maintenance.run_forever(maintenance.Maintenance(state.sessions, state.blobs, settings))
        )
        try:
            yield
        finally:
            maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await maintainer
            dispose_read_engine(state.read_engine, engine)
            engine.dispose()
            state.hashing.close()

    async def http_error(request: Request, exc: Exception) -> Response:
        # Registered for HTTPException only; anything else would be a server error.
        status_code = exc.status_code if isinstance(exc, HTTPException) else 500
        mapped: PortalError
        if status_code == 404:
            mapped = NotFound()
        elif status_code == 405:
            mapped = BadInput("That action is not available here.")
            mapped.status_code = 405
        elif status_code == 403:
            mapped = Forbidden()
        else:
            mapped = BadInput()
            mapped.status_code = status_code
        return error_response(request, mapped, wants_json=request.url.path.startswith("/api/"))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return server_error_response(
            request, "unexpected", wants_json=request.url.path.startswith("/api/")
        )

    table = routes()
    app = Starlette(
        routes=table,
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.secure_cookies),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                # Uploaded chunks (up to a batch of them) are streamed to disk by their
                # endpoint, never read whole; it checks each chunk's own size.
                exceptions=[BodyLimit("PUT", UPLOAD_CHUNK_PATTERN, MAX_BATCH_BYTES)],
            ),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
    # The same routes, each fixed path's candidates found once (web.IndexedRouter).
    app.router = IndexedRouter(table, lifespan=lifespan)
    index_routes(app)
    return app


def app_from_environment() -> Starlette:
    """The app for each worker process of ``portal serve --workers N``: the settings come from
    the environment, where ``portal serve`` put the base URL it was started with."""
    app = create_app(Settings.from_env(dict(os.environ)))
    freeze_start_up()
    keep_freed_memory()
    return app


def freeze_start_up() -> None:
    """Leave what a server process has built so far (modules, classes, mappers, the route
    table) out of every later garbage collection: it lives as long as the process, and a full
    collection walked all of it again (a third of the collector's time on the facilitator's
    home). For ``portal serve`` only: a test process builds many apps, and what their tests
    leave behind must stay collectable."""
    gc.freeze()


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks from this size up are mapped and unmapped on their own; smaller ones come from the
# heap. Above an uploaded chunk (1 MiB), as glibc's own threshold rises to once it has seen one.
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
# Free memory at the top of a heap given back to the system only beyond this.
TRIM_THRESHOLD_BYTES = 8 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Keep memory freed at the end of a request for the next one, rather than hand it back to
    the system and take it again (for ``portal serve``'s processes; True if it applied).

    glibc gives back free memory at the top of a heap once it exceeds 128 KiB, and raises that
    bar only after a block large enough to be mapped on its own was freed. SQLite takes a page
    cache for each temporary table a statement uses (an ``IN (SELECT ...)`` list, an
    ``ORDER BY`` before a ``LIMIT``), about 86 KiB each, and frees it when the statement ends:
    the facilitator's home's one statement has about fourteen such. Depending on the heap's
    layout, each run then took that megabyte, gave it back, and took it again page by page
    from the kernel: measured on that statement, 255 page faults and 1.0-1.4 ms of system time
    a run, against 0.2 ms for the whole statement without them (bench/README.md, "Requests per
    second, sixth round"; the live servers measured there happened not to be in that state).

    The bars set here are fixed (glibc's own would rise once an upload's chunk was freed, which
    a server that only shows pages never does). What a process keeps beyond what it uses is at
    most TRIM_THRESHOLD_BYTES per heap; no request's data is kept: it is only free memory.
    Elsewhere than glibc (musl, macOS) this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl has mallopt, not these bars)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
