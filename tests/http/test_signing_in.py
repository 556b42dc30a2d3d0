"""Signing in: derived keys only, no enumeration, throttling that holds across processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.pool import QueuePool
from starlette.testclient import TestClient

from portal import protocol
from portal.accounts.hashing import HashingSlots
from portal.accounts.models import Role, SignInFailure
from portal.app import create_app
from portal.settings import Settings
from tests.factories import Portal

T = TypeVar("T")


def test_sign_in_returns_bundle_that_unwraps_to_the_secret_key(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    facilitator.forget_cookies()
    body = facilitator.sign_in()
    params = facilitator.post_json("/api/sign-in/params", {"sign_in_name": facilitator.name}).json()
    keys = protocol.derive_account_keys(
        facilitator.password, protocol.b64decode(params["salt"]), params["ops"], params["mem"]
    )
    bundle = protocol.b64decode(body["bundle"])
    assert (
        protocol.unwrap_secret_key(keys.wrap_key, body["account_id"], bundle)
        == facilitator.secret_key
    )
    assert len(protocol.b64decode(body["session_key"])) == 32
    assert facilitator.get("/home").status_code == 200


def test_wrong_password_is_refused_without_the_bundle(portal: Portal) -> None:
    manager = portal.service_manager()
    manager.forget_cookies()
    response = manager.try_sign_in(password="not the password")
    assert response.status_code == 401
    assert response.json() == {
        "error": "That name and password do not match. Check them and try again."
    }
    assert manager.get("/home").status_code == 303


def test_unknown_name_looks_like_a_known_one(portal: Portal) -> None:
    manager = portal.service_manager()
    visitor = portal.visitor()
    known = visitor.post_json("/api/sign-in/params", {"sign_in_name": manager.name}).json()
    unknown = visitor.post_json("/api/sign-in/params", {"sign_in_name": "nobody here"}).json()
    again = visitor.post_json("/api/sign-in/params", {"sign_in_name": "NOBODY  here"}).json()
    assert unknown == again  # stable, so asking twice reveals nothing
    assert set(known) == set(unknown)
    assert len(protocol.b64decode(unknown["salt"])) == len(protocol.b64decode(known["salt"]))
    assert (unknown["ops"], unknown["mem"]) == (known["ops"], known["mem"])
    refused = visitor.try_sign_in("nobody here", "whatever")
    wrong = visitor.try_sign_in(manager.name, "whatever")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json()


def test_repeated_failures_throttle_the_account(portal: Portal, settings: Settings) -> None:
    manager = portal.service_manager()
    manager.forget_cookies()
    for _ in range(settings.signin_max_failures_per_account):
        assert manager.try_sign_in(password="wrong").status_code == 401
    throttled = manager.try_sign_in()  # even the right password waits
    assert throttled.status_code == 429
    body = throttled.json()
    assert "wait 15 minutes" in body["error"]
    assert 0 < body["retry_after"] <= 15 * 60
    assert throttled.headers["Retry-After"] == str(body["retry_after"])


def test_unknown_names_are_throttled_like_known_ones(portal: Portal, settings: Settings) -> None:
    visitor = portal.visitor()
    for _ in range(settings.signin_max_failures_per_account):
        assert visitor.try_sign_in("no such person", "x").status_code == 401
    assert visitor.try_sign_in("no such person", "x").status_code == 429


def test_throttle_holds_across_server_processes(portal: Portal, settings: Settings) -> None:
    manager = portal.service_manager()
    manager.forget_cookies()
    for _ in range(settings.signin_max_failures_per_account):
        manager.try_sign_in(password="wrong")
    # A second application instance over the same database (another server process).
    with TestClient(create_app(settings)) as other:
        manager.http = other
        assert manager.try_sign_in().status_code == 429


def test_address_throttle_catches_many_names(portal: Portal, settings_env: dict[str, str]) -> None:
    settings = Settings.from_env({**settings_env, "PORTAL_SIGNIN_MAX_FAILURES_PER_ADDRESS": "3"})
    with TestClient(create_app(settings)) as strict:
        visitor = Portal(strict, settings, portal.sessions.kw["bind"]).visitor()
        for index in range(3):
            assert visitor.try_sign_in(f"name {index}", "x").status_code == 401
        assert visitor.try_sign_in("yet another", "x").status_code == 429


def test_success_clears_the_account_failures(portal: Portal, settings: Settings) -> None:
    manager = portal.service_manager()
    manager.forget_cookies()
    for _ in range(settings.signin_max_failures_per_account - 1):
        manager.try_sign_in(password="wrong")
    manager.sign_in()
    manager.forget_cookies()
    for _ in range(settings.signin_max_failures_per_account - 1):
        assert manager.try_sign_in(password="wrong").status_code == 401
    assert manager.try_sign_in().status_code == 200


class _Watched(HashingSlots):
    """The app's own hashing slots, noting how many database connections are checked out
    while each argon2 step runs."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.connections_held: list[int] = []

    async def run(self, work: Callable[[], T]) -> T:
        pool = self.engine.pool
        assert isinstance(pool, QueuePool)  # file SQLite and PostgreSQL alike
        self.connections_held.append(pool.checkedout())
        return await super().run(work)


def test_argon2_runs_outside_any_transaction(portal: Portal, client: TestClient) -> None:
    state = client.app.state.portal  # type: ignore[attr-defined]
    watched = state.hashing = _Watched(state.engine)
    manager = portal.service_manager()  # joins: the new keys are hashed
    manager.forget_cookies()
    assert manager.try_sign_in(password="wrong").status_code == 401
    manager.sign_in()
    # Joining, a wrong and a right sign-in: each hashed with no connection (so no transaction,
    # no lock) held by the request.
    assert len(watched.connections_held) >= 3
    assert set(watched.connections_held) == {0}


def test_a_sign_in_counted_in_advance_is_taken_back_when_it_succeeds(portal: Portal) -> None:
    manager = portal.service_manager()
    manager.forget_cookies()
    manager.sign_in()
    with portal.db() as db:
        assert db.scalar(select(func.count()).select_from(SignInFailure)) == 0
