"""create_app: the Starlette application, built from typed settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from portal.accounts.hashing import DummyVerifier, make_hasher
from portal.db import make_engine, make_session_factory
from portal.errors import BadInput, Forbidden, NotFound, PortalError
from portal.logs import configure_logging
from portal.routes import routes
from portal.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from portal.settings import Settings
from portal.web import AppState, error_response, make_jinja, server_error_response

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
log = logging.getLogger("portal.app")


def create_app(settings: Settings) -> Starlette:
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        hasher = make_hasher(settings.auth_hash_profile)
        app.state.portal = AppState(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            jinja=make_jinja(str(TEMPLATES_DIR)),
            auth_hasher=hasher,
            dummy_verifier=DummyVerifier(hasher),
        )
        try:
            yield
        finally:
            engine.dispose()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # noqa: S101  (registered for HTTPException only)
        mapped: PortalError
        if exc.status_code == 404:
            mapped = NotFound()
        elif exc.status_code == 405:
            mapped = BadInput("That action is not available here.")
            mapped.status_code = 405
        elif exc.status_code == 403:
            mapped = Forbidden()
        else:
            mapped = BadInput()
            mapped.status_code = exc.status_code
        return error_response(request, mapped, wants_json=request.url.path.startswith("/api/"))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return server_error_response(
            request, "unexpected", wants_json=request.url.path.startswith("/api/")
        )

    return Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
