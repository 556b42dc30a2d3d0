"""Headers, CSRF, bad input and error pages on every kind of response."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from sqlalchemy import event, text
from starlette.testclient import TestClient

from portal.accounts.models import Role
from portal.security import CSP
from portal.settings import Settings
from tests.factories import Portal

EXPECTED_CSP_PARTS = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def _assert_baseline(headers: Mapping[str, str]) -> None:
    for part in EXPECTED_CSP_PARTS:
        assert part in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert "camera=(self)" in headers["permissions-policy"]
    assert "microphone=(self)" in headers["permissions-policy"]
    assert headers["cross-origin-opener-policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/sign-in", "/join", "/healthz", "/no/such/page", "/static/css/portal.css"]
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    _assert_baseline(response.headers)
    if not path.startswith("/static/"):
        assert response.headers["cache-control"] == "no-store"


def test_signed_in_pages_are_not_stored(portal: Portal) -> None:
    manager = portal.service_manager()
    for path in ["/home", "/account", "/account/sessions", "/staff/invitations", "/api/session"]:
        response = manager.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"


def test_csp_has_no_unsafe_inline() -> None:
    assert "unsafe-inline" not in CSP
    assert "'unsafe-eval'" not in CSP


def test_not_found_page_is_friendly_and_quiet(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert "Traceback" not in response.text
    assert "Leave this site" in response.text


def test_wrong_method_is_a_clear_405(client: TestClient) -> None:
    response = client.post("/home")
    assert response.status_code == 405


@pytest.mark.parametrize("path", ["/api/sign-in", "/api/join/start", "/api/sign-in/params"])
def test_json_call_without_csrf_token_is_refused(portal: Portal, path: str) -> None:
    visitor = portal.visitor()
    visitor.csrf()
    response = visitor.request("POST", path, json={"sign_in_name": "x"})
    assert response.status_code == 403
    wrong = visitor.request("POST", path, json={}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403


def test_form_without_csrf_token_is_refused(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    response = facilitator.request("POST", "/sign-out", data={})
    assert response.status_code == 403
    assert facilitator.get("/home").status_code == 200


def test_htmx_request_with_header_token_passes(portal: Portal) -> None:
    manager = portal.service_manager()
    response = manager.request(
        "POST",
        "/api/invitations/prepare",
        json={"role": "facilitator"},
        headers={"X-CSRF-Token": manager.csrf(), "HX-Request": "true"},
    )
    assert response.status_code == 200


def test_cross_site_request_is_refused_even_with_token(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    response = facilitator.request(
        "POST",
        "/sign-out",
        data={"csrf_token": facilitator.csrf()},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"<xml/>", "application/xml"),
    ],
)
def test_malformed_body_is_a_clear_400(portal: Portal, body: bytes, content_type: str) -> None:
    visitor = portal.visitor()
    response = visitor.request(
        "POST",
        "/api/sign-in",
        content=body,
        headers={"Content-Type": content_type, "X-CSRF-Token": visitor.csrf()},
    )
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("value", [None, 7, ["a"], {"a": 1}, "", "x" * 500])
def test_wrong_field_types_are_400_not_500(portal: Portal, value: object) -> None:
    visitor = portal.visitor()
    response = visitor.post_json("/api/sign-in", {"sign_in_name": value, "auth_key": value})
    assert response.status_code == 400


def test_oversized_body_is_refused_before_reading(portal: Portal) -> None:
    visitor = portal.visitor()
    response = visitor.request(
        "POST",
        "/api/sign-in",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json", "X-CSRF-Token": visitor.csrf()},
    )
    assert response.status_code == 413


def test_cookies_are_httponly_and_strict(portal: Portal) -> None:
    visitor = portal.visitor()
    response = visitor.get("/sign-in")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    manager = portal.visitor().join(portal.setup_code())
    assert manager.account_id


def test_secure_cookie_flag_follows_https_base_url(settings_env: dict[str, str]) -> None:
    from portal.app import create_app
    from portal.settings import Settings

    settings = Settings.from_env({**settings_env, "PORTAL_BASE_URL": "https://portal.example"})
    with TestClient(create_app(settings), base_url="https://portal.example") as https:
        response = https.get("/sign-in")
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie
        # No other site or subdomain can set or overwrite a __Host- cookie.
        assert cookie.startswith("__Host-portal_csrf=")
        assert "Domain" not in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")


@pytest.mark.parametrize("https", [False, True])
@pytest.mark.parametrize("max_age", [None, 3600])
@pytest.mark.parametrize("value", ["Abc-_09" * 6, 'not "plain"; at all'])
def test_cookies_are_written_as_starlette_writes_them(
    settings_env: dict[str, str], https: bool, max_age: int | None, value: str
) -> None:
    # web._set_cookie writes a token's header itself (cheaper on every visitor's first page):
    # the very bytes Starlette's set_cookie gives, which it still uses for anything else.
    from starlette.responses import Response

    from portal.security import cookie_name
    from portal.web import _set_cookie

    base_url = "https://portal.example" if https else "http://127.0.0.1:8000"
    settings = Settings.from_env({**settings_env, "PORTAL_BASE_URL": base_url})
    ours, theirs = Response(), Response()
    _set_cookie(ours, settings, "portal_session", value, max_age)
    theirs.set_cookie(
        cookie_name("portal_session", secure=https),
        value,
        max_age=max_age,
        path="/",
        secure=https,
        httponly=True,
        samesite="strict",
    )
    assert ours.headers.getlist("set-cookie") == theirs.headers.getlist("set-cookie")


def test_no_strict_transport_security_over_plain_http(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/sign-in").headers


def test_csrf_token_is_bound_to_the_session(portal: Portal) -> None:
    visitor = portal.visitor()
    signed_out_token = visitor.csrf()
    manager = portal.service_manager()
    session_token = manager.csrf()
    assert session_token != signed_out_token
    # The signed-out token of this very browser no longer works once it is signed in...
    refused = manager.request(
        "POST", "/api/session/keepalive", json={}, headers={"X-CSRF-Token": signed_out_token}
    )
    assert refused.status_code == 403
    # ...nor does another session's token, and a forged cookie cannot change that.
    colleague = portal.person(Role.FACILITATOR, inviter=manager)
    manager.jar.set("portal_csrf", colleague.csrf())
    assert (
        manager.request(
            "POST",
            "/api/session/keepalive",
            json={},
            headers={"X-CSRF-Token": colleague.csrf()},
        ).status_code
        == 403
    )
    assert (
        manager.request(
            "POST", "/api/session/keepalive", json={}, headers={"X-CSRF-Token": session_token}
        ).status_code
        == 200
    )


def test_healthz_gives_a_visitor_a_csrf_token_without_the_database(
    portal: Portal, client: TestClient
) -> None:
    # /healthz is how scripts (and tests) get a signed-out CSRF token: answered on the event
    # loop with no statement run, it keeps the cookie as every other page does.
    engine = client.app.state.portal.engine  # type: ignore[attr-defined]  # Starlette app
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        visitor = portal.visitor()
        first = visitor.get("/healthz")
        assert first.status_code == 200
        token = visitor.jar["portal_csrf"]
        again = visitor.get("/healthz")
        assert "set-cookie" not in again.headers
        assert visitor.jar["portal_csrf"] == token
        assert statements == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # With a session cookie, the page's token is the session's (looked up in the database).
    manager = portal.service_manager()
    bound = manager.csrf()
    assert manager.get("/healthz").status_code == 200
    assert manager.jar["portal_csrf"] == bound != token


def test_csrf_token_changes_at_sign_in_and_sign_out(portal: Portal) -> None:
    manager = portal.service_manager()
    first = manager.csrf()
    manager.sign_out()
    after_sign_out = manager.csrf()
    assert after_sign_out != first
    manager.sign_in()
    after_sign_in = manager.csrf()
    assert after_sign_in not in {first, after_sign_out}
    # The page rendered now carries the new token, and the ended session's token is refused.
    assert after_sign_in in manager.get("/account").text
    stale = manager.request(
        "POST", "/api/session/keepalive", json={}, headers={"X-CSRF-Token": first}
    )
    assert stale.status_code == 403


def test_signing_in_answers_the_new_sessions_csrf_token(portal: Portal) -> None:
    """The page that signed in still holds the signed-out token: the answer carries the new
    session's, which the browser adopts before it registers a key or pins the root."""
    manager = portal.service_manager()
    manager.sign_out()
    answer = manager.sign_in()
    assert answer["csrf_token"] == manager.csrf()
    pinned = manager.request(
        "PUT",
        "/api/vault",
        json={"blob": "AAAA"},
        headers={"X-CSRF-Token": answer["csrf_token"]},
    )
    assert pinned.status_code == 200, pinned.text


def test_server_failure_gives_a_quiet_500_page(portal: Portal, settings: Settings) -> None:
    manager = portal.service_manager()
    with portal.db() as db:
        # A real failure inside a request: the table every signed-in request reads is gone.
        # CASCADE on PostgreSQL: other tables (second-factor ceremonies) refer to it.
        cascade = " CASCADE" if db.get_bind().dialect.name == "postgresql" else ""
        db.execute(text(f"DROP TABLE sessions{cascade}"))
        db.commit()
    response = manager.get("/home")
    assert response.status_code == 500
    assert "Something went wrong on our side and nothing was changed" in response.text
    assert "sessions" not in response.text.lower().replace("sessions_page", "")
    assert "Traceback" not in response.text
    reference = re.search(r"this reference: ([0-9a-f]{12})", response.text)
    assert reference is not None
    log = settings.log_file.read_text()
    assert reference.group(1) in log
    assert "no such table" not in log  # exception messages are withheld from the log
    assert "does not exist" not in log
    api = manager.get("/api/session")
    assert api.status_code == 500
    assert "error" in api.json()
