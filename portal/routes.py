"""The one route table."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from portal.accounts import views as accounts

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def routes() -> list[BaseRoute]:
    return [
        Route("/", accounts.root, name="root"),
        Route("/healthz", accounts.healthz, name="healthz"),
        # Signing in and joining
        Route("/sign-in", accounts.sign_in_page, name="sign_in_page"),
        Route("/join", accounts.join_page, name="join_page"),
        Route("/setup", accounts.setup_page, name="setup_page"),
        Route("/recover", accounts.recover_page, name="recover_page"),
        Route("/sign-out", accounts.sign_out, methods=["POST"], name="sign_out"),
        Route("/session/quick-exit", accounts.quick_exit, methods=["POST"], name="quick_exit"),
        Route("/api/join/start", accounts.api_join_start, methods=["POST"], name="api_join_start"),
        Route(
            "/api/join/complete",
            accounts.api_join_complete,
            methods=["POST"],
            name="api_join_complete",
        ),
        Route(
            "/api/sign-in/params",
            accounts.api_sign_in_params,
            methods=["POST"],
            name="api_sign_in_params",
        ),
        Route("/api/sign-in", accounts.api_sign_in, methods=["POST"], name="api_sign_in"),
        Route(
            "/api/recovery/start",
            accounts.api_recovery_start,
            methods=["POST"],
            name="api_recovery_start",
        ),
        Route(
            "/api/recovery/complete",
            accounts.api_recovery_complete,
            methods=["POST"],
            name="api_recovery_complete",
        ),
        # Signed in
        Route("/home", accounts.home, name="home"),
        Route("/account", accounts.account, name="account"),
        Route("/account/password", accounts.password_page, name="password_page"),
        Route("/account/sessions", accounts.sessions_page, name="sessions_page"),
        Route(
            "/account/sessions/end-others",
            accounts.end_other_sessions,
            methods=["POST"],
            name="end_other_sessions",
        ),
        Route(
            "/account/sessions/{session_id}/end",
            accounts.end_session,
            methods=["POST"],
            name="end_session",
        ),
        Route("/api/session", accounts.api_session, name="api_session"),
        Route("/api/session/status", accounts.api_session_status, name="api_session_status"),
        Route(
            "/api/session/keepalive", accounts.api_keepalive, methods=["POST"], name="api_keepalive"
        ),
        Route("/api/account/kdf", accounts.api_account_kdf, name="api_account_kdf"),
        Route(
            "/api/account/password",
            accounts.api_change_password,
            methods=["POST"],
            name="api_change_password",
        ),
        # Staff
        Route("/staff/invitations", accounts.invitations, name="invitations"),
        Route(
            "/staff/invitations",
            accounts.create_invitation,
            methods=["POST"],
            name="create_invitation",
        ),
        Route(
            "/staff/invitations/{invitation_id}/revoke",
            accounts.revoke_invitation,
            methods=["POST"],
            name="revoke_invitation",
        ),
        Mount(
            "/static", app=StaticFiles(directory=STATIC_DIR, follow_symlink=False), name="static"
        ),
    ]
