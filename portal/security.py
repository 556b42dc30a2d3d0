"""Response headers, the request body limit and CSRF.

Every response, errors and static files included, carries the strict CSP and the privacy
headers; every response except static assets carries ``Cache-Control: no-store`` so that no
signed-in page (or the sign-in page's token) is kept by the browser or a proxy.

CSRF: one mechanism for forms, htmx and JSON calls. A random token lives in an HttpOnly,
SameSite=Strict cookie and is rendered into each page (a ``<meta>`` tag, ``hx-headers`` and hidden
fields). A state-changing request must echo it in the ``X-CSRF-Token`` header or the
``csrf_token`` form field; a browser that reports the request as cross-site is refused outright.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.errors import CsrfRejected

CSP = "; ".join(
    [
        "default-src 'self'",
        # 'wasm-unsafe-eval' lets libsodium's WebAssembly compile; it does not allow eval().
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        # Scanned letters sent as PDF: decrypted in the page into a blob: URL (application/pdf
        # only, made by static/js/media/viewer.js) and shown by the browser's PDF viewer.
        "frame-src blob:",
        "worker-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
}

CSRF_COOKIE = "portal_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if is_static:
                    # Modules import each other by plain relative paths, so URLs carry no
                    # version: the browser revalidates (ETag) and never runs stale crypto code.
                    headers["cache-control"] = "no-cache"
                else:
                    headers["cache-control"] = "no-store"
                    headers["pragma"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class BodyLimit:
    """A different limit for one route: ``method`` and a full-path pattern."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` before they are read into memory.

    ``exceptions`` name the few routes with another limit (uploaded chunks, which their
    endpoint streams to disk rather than reading into memory).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, exceptions: Sequence[BodyLimit] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exceptions = tuple(exceptions)

    def _limit(self, scope: Scope) -> int:
        for rule in self.exceptions:
            if scope["method"] == rule.method and rule.path.fullmatch(scope["path"]):
                return rule.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await _too_large(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _too_large(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    sentence = "That was too large to send. Nothing was saved."
    response: Response
    if scope["path"].startswith("/api/"):
        response = JSONResponse({"error": sentence}, status_code=413)
    else:
        response = Response(sentence, status_code=413, media_type="text/plain; charset=utf-8")
    await response(scope, receive, send)


def csrf_cookie_token(request: Request) -> str | None:
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token
    return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def check_csrf(request: Request, submitted_field: str | None) -> None:
    """Raise CsrfRejected unless a state-changing request proves it came from our pages."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("sec-fetch-site") in {"cross-site", "same-site"}:
        raise CsrfRejected
    expected = csrf_cookie_token(request)
    submitted = request.headers.get(CSRF_HEADER) or submitted_field
    if not expected or not submitted:
        raise CsrfRejected
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfRejected
