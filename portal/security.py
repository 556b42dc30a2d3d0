"""Response headers, the request body limit and CSRF.

Every response, errors and static files included, carries the strict CSP and the privacy
headers; every response except static assets carries ``Cache-Control: no-store`` so that no
signed-in page (or the sign-in page's token) is kept by the browser or a proxy.

CSRF: one mechanism for forms, htmx and JSON calls. A state-changing request must echo the page's
token in the ``X-CSRF-Token`` header or the ``csrf_token`` form field; a browser that reports the
request as cross-site is refused outright. The token expected depends on who is asking:
- signed in: a keyed hash of the session cookie (:func:`session_csrf_token`), so it is bound to
  that session, changes at every sign-in, and is worthless once the session ends;
- signed out (signing in, joining): a random token in an HttpOnly, SameSite=Strict cookie
  (double submit). Signing in replaces it, signing out replaces it with a fresh random one.
The token is rendered into each page (a ``<meta>`` tag, ``hx-headers`` and hidden fields), and
the cookie always holds the token the next request will be checked against. Over HTTPS both
cookies carry the ``__Host-`` prefix (Secure, Path=/, no Domain: no other site or subdomain can
set or overwrite them).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import protocol
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
SESSION_COOKIE = "portal_session"
# A browser's long-lived token, so that a sign-in from another browser is told
# (portal/accounts/browsers.py).
KNOWN_BROWSER_COOKIE = "portal_browser"
HOST_PREFIX = "__Host-"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Over HTTPS, browsers keep to the portal's address for two years (docs/operator.md, "TLS").
HSTS = "max-age=63072000; includeSubDomains"


def cookie_name(name: str, *, secure: bool) -> str:
    """The cookie's name: ``__Host-`` prefixed when cookies are Secure (served over HTTPS)."""
    return HOST_PREFIX + name if secure else name


def _raw_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS and the cache rule to every response.

    The headers are encoded once, here, and replace any the response set itself: every
    response pays for this, and setting nine headers one by one through ``MutableHeaders``
    (each a scan of the list) cost more than the rest of this middleware.
    """

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        common = dict(SECURITY_HEADERS)
        if https:
            common["strict-transport-security"] = HSTS
        # Modules import each other by plain relative paths, so static URLs carry no version:
        # the browser revalidates them (ETag) and never runs stale crypto code.
        self._static = _raw_headers({**common, "cache-control": "no-cache"})
        self._page = _raw_headers({**common, "cache-control": "no-store", "pragma": "no-cache"})
        self._names = frozenset(name for name, _value in self._page)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._static if scope["path"].startswith("/static/") else self._page
        names = self._names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [pair for pair in message.get("headers", ()) if pair[0] not in names]
                headers.extend(added)
                message["headers"] = headers
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


def csrf_cookie_token(request: Request, *, secure: bool) -> str | None:
    token = request.cookies.get(cookie_name(CSRF_COOKIE, secure=secure))
    if token and 20 <= len(token) <= 100 and token.isascii():
        return token
    return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def session_csrf_token(server_secret: bytes, session_token: str) -> str:
    """The CSRF token of the session whose cookie holds ``session_token``."""
    return protocol.b64encode(protocol.token_hash(server_secret, "csrf:" + session_token))


def expected_csrf_token(request: Request, server_secret: bytes, *, secure: bool) -> str | None:
    """The token a state-changing request must carry: bound to its session, if it names one."""
    session_token = request.cookies.get(cookie_name(SESSION_COOKIE, secure=secure))
    if session_token and session_token.isascii() and len(session_token) <= 200:
        return session_csrf_token(server_secret, session_token)
    return csrf_cookie_token(request, secure=secure)


def check_csrf(request: Request, submitted_field: str | None, expected: str | None) -> None:
    """Raise CsrfRejected unless a state-changing request proves it came from our pages."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("sec-fetch-site") in {"cross-site", "same-site"}:
        raise CsrfRejected
    submitted = request.headers.get(CSRF_HEADER) or submitted_field
    if not expected or not submitted or not submitted.isascii():
        raise CsrfRejected
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfRejected
