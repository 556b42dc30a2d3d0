"""The second factor (docs/security.md "Second factor"): the step after the password with an
authenticator app's code or a backup code, adding and removing factors, a service manager's
reset and the operator's. Codes are made with pyotp from the secret the set-up page showed,
the time passed in (never patched)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pyotp
from sqlalchemy import select

from portal.accounts.models import Account, Role, SignInSession
from portal.audit.models import AuditEvent
from portal.audit.tags import AuditTag
from portal.db import make_engine
from portal.factors import services
from portal.factors.models import BackupCode, SecondFactor
from portal.settings import Settings
from tests.factories import Person, Portal
from tests.support import second_factor
from tests.support.live_server import LiveServer


def _password_only(person: Person) -> dict[str, object]:
    person.forget_cookies()
    response = person.try_sign_in()
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _events(portal: Portal, tag: AuditTag) -> list[AuditEvent]:
    with portal.db() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def _backup_codes(person: Person) -> list[str]:
    page = person.post_form("/account/second-factor/backup-codes")
    assert page.status_code == 200, page.text
    return re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", page.text)


# ------------------------------------------------------------------------ the step itself


def test_staff_sign_in_owes_the_step_until_the_apps_code(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    body = _password_only(facilitator)
    assert body["second_factor"] == "verify"
    assert body["next"] == "/sign-in/second-factor"
    home = facilitator.get("/home")
    assert (home.status_code, home.headers["location"]) == (303, "/sign-in/second-factor")
    api = facilitator.get("/api/cases/0b0e0f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f/key")
    assert api.status_code == 403
    assert api.json()["second_factor"] == "verify"
    page = facilitator.get("/sign-in/second-factor")
    assert page.status_code == 200
    assert "Confirm it is you" in page.text
    passed = facilitator.pass_second_factor()
    assert passed.status_code == 200, passed.text
    assert passed.json()["next"] == "/home"
    assert facilitator.get("/home").status_code == 200
    [event] = [
        e
        for e in _events(portal, AuditTag.SECOND_FACTOR_PASSED)
        if e.actor_id == facilitator.account_id
    ]
    assert event.subject_id is not None


def test_an_apps_code_is_taken_once(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    _password_only(facilitator)
    code = second_factor.next_code(facilitator.totp_secret)
    first = facilitator.post_json("/api/sign-in/second-factor", {"code": code})
    assert first.status_code == 200, first.text
    _password_only(facilitator)
    again = facilitator.post_json("/api/sign-in/second-factor", {"code": code})
    assert again.status_code == 401
    assert facilitator.get("/home").status_code == 303


def test_a_wrong_code_is_refused_audited_with_ids_only_and_throttled(
    portal: Portal, settings: Settings
) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    _password_only(facilitator)
    wrong = "123456"
    if pyotp.TOTP(facilitator.totp_secret).verify(wrong, valid_window=1):  # pragma: no cover
        wrong = "654321"  # (one chance in a third of a million)
    statuses = [
        facilitator.post_json("/api/sign-in/second-factor", {"code": wrong}).status_code
        for _ in range(settings.signin_max_failures_per_account + 1)
    ]
    assert statuses[:-1] == [401] * settings.signin_max_failures_per_account
    assert statuses[-1] == 429
    # Throttled now, even with the right code.
    assert facilitator.pass_second_factor().status_code == 429
    failures = _events(portal, AuditTag.SECOND_FACTOR_FAILED)
    assert len(failures) == settings.signin_max_failures_per_account
    assert {f.actor_id for f in failures} == {facilitator.account_id}
    assert _events(portal, AuditTag.SECOND_FACTOR_THROTTLED)


def test_totp_codes_follow_the_time_given(settings: Settings) -> None:
    secret = pyotp.random_base32()
    at = datetime(2027, 3, 1, 12, 0, 10, tzinfo=UTC)
    totp = pyotp.TOTP(secret)
    step = totp.timecode(at)
    assert services.totp_step(secret, totp.at(at), at, None) == step
    # One step either side is taken (a phone's clock a little out), never two.
    assert services.totp_step(secret, totp.at(at + timedelta(seconds=30)), at, None) == step + 1
    assert services.totp_step(secret, totp.at(at - timedelta(seconds=60)), at, None) is None
    # Nor a step already used.
    assert services.totp_step(secret, totp.at(at), at, step) is None
    # What the phone's app lists says nothing about the service; the QR code has no style.
    shown = services.app_setup(settings, Account(role=Role.PARTICIPANT, sign_in_name="sam"), secret)
    assert "justice" not in shown.uri.lower()
    assert "rj" not in shown.uri.lower().replace(secret.lower(), "")
    assert "style" not in shown.qr_svg
    sealed = services.seal_totp_secret(settings, secret)
    assert secret.encode() not in sealed
    assert services.open_totp_secret(settings, sealed) == secret


# ------------------------------------------------------------------------- backup codes


def test_backup_codes_work_once_each_and_new_ones_cancel_the_old(portal: Portal) -> None:
    manager = portal.service_manager()
    codes = _backup_codes(manager)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    with portal.db() as db:
        stored = db.scalars(
            select(BackupCode.code_hash).where(BackupCode.account_id == manager.account_id)
        ).all()
    assert all(code.encode() not in h for code in codes for h in stored)
    _password_only(manager)
    used = manager.post_json("/api/sign-in/second-factor", {"code": codes[0].upper()})
    assert used.status_code == 200, used.text
    _password_only(manager)
    again = manager.post_json("/api/sign-in/second-factor", {"code": codes[0]})
    assert again.status_code == 401
    assert manager.post_json("/api/sign-in/second-factor", {"code": codes[1]}).status_code == 200
    page = manager.get("/account/second-factor")
    assert "You have 8 unused backup codes" in page.text
    fresh = _backup_codes(manager)
    _password_only(manager)
    assert manager.post_json("/api/sign-in/second-factor", {"code": codes[2]}).status_code == 401
    assert manager.post_json("/api/sign-in/second-factor", {"code": fresh[0]}).status_code == 200
    used_events = _events(portal, AuditTag.SECOND_FACTOR_BACKUP_CODE_USED)
    assert len(used_events) == 3
    assert {e.actor_id for e in used_events} == {manager.account_id}


# ----------------------------------------------------------------------- adding and removing


def test_new_staff_add_a_factor_before_anything_else(portal: Portal) -> None:
    manager = portal.service_manager()
    # Joining without the factory's own set-up, to see what a newcomer's browser sees.
    newcomer = portal.visitor()
    newcomer.adds_app_on_joining = False
    newcomer.join_invited(manager.invite(Role.FACILITATOR))
    home = newcomer.get("/home")
    assert (home.status_code, home.headers["location"]) == (303, "/account/second-factor")
    assert newcomer.get("/api/trust").json()["second_factor"] == "enrol"
    page = newcomer.get("/account/second-factor")
    assert "Staff add a second factor" in page.text
    app = newcomer.get("/account/second-factor/app")
    assert 'style="' not in app.text.split("<main", 1)[1]
    assert "<svg" in app.text
    secret = re.search(r'data-secret="([A-Z2-7]+)"', app.text)
    assert secret is not None
    wrong = newcomer.post_form("/account/second-factor/app", {"code": "12"})
    assert wrong.status_code == 400
    assert "6 digits" in wrong.text
    confirmed = newcomer.post_form(
        "/account/second-factor/app", {"code": second_factor.used_now(secret.group(1))}
    )
    assert confirmed.status_code == 303
    assert newcomer.get("/home").status_code == 200
    added = _events(portal, AuditTag.SECOND_FACTOR_ADDED)
    assert newcomer.account_id in {e.actor_id for e in added}


def test_participants_may_add_a_factor_and_are_then_asked_for_it(portal: Portal) -> None:
    participant = portal.person(Role.PARTICIPANT)
    assert _password_only(participant)["second_factor"] is None
    participant.sign_in()
    secret = participant.add_authenticator_app()
    assert _password_only(participant)["second_factor"] == "verify"
    assert participant.get("/home").status_code == 303
    assert participant.pass_second_factor().status_code == 200
    with portal.db() as db:
        factor_id = db.scalars(
            select(SecondFactor.id).where(SecondFactor.account_id == participant.account_id)
        ).one()
    removed = participant.post_form(f"/account/second-factor/{factor_id}/remove")
    assert removed.status_code == 303
    assert _password_only(participant)["second_factor"] is None
    assert secret


def test_staff_keep_at_least_one_factor(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    with portal.db() as db:
        factor_id = db.scalars(
            select(SecondFactor.id).where(SecondFactor.account_id == facilitator.account_id)
        ).one()
    refused = facilitator.post_json(f"/account/second-factor/{factor_id}/remove")
    assert refused.status_code == 409
    facilitator.add_authenticator_app()
    assert facilitator.post_form(f"/account/second-factor/{factor_id}/remove").status_code == 303
    other = portal.person(Role.FACILITATOR)
    assert other.post_form(f"/account/second-factor/{factor_id}/remove").status_code == 404


# ---------------------------------------------------------------------------------- resets


def test_a_service_manager_resets_a_colleague_after_checking_who_they_are(
    portal: Portal,
) -> None:
    manager = portal.service_manager()
    colleague = portal.person(Role.FACILITATOR, manager)
    page = manager.get(f"/staff/people/{colleague.account_id}/second-factor")
    assert page.status_code == 200
    assert "check who is asking" in page.text
    unticked = manager.post_form(f"/staff/people/{colleague.account_id}/second-factor")
    assert unticked.status_code == 400
    done = manager.post_form(
        f"/staff/people/{colleague.account_id}/second-factor", {"checked_in_person": "yes"}
    )
    assert done.status_code == 200
    with portal.db() as db:
        assert not db.scalars(
            select(SecondFactor).where(SecondFactor.account_id == colleague.account_id)
        ).all()
        live = db.scalars(
            select(SignInSession).where(
                SignInSession.account_id == colleague.account_id,
                SignInSession.ended_at.is_(None),
            )
        ).all()
    assert not live
    [event] = _events(portal, AuditTag.SECOND_FACTOR_RESET)
    assert (event.actor_id, event.subject_id) == (manager.account_id, colleague.account_id)
    assert _password_only(colleague)["second_factor"] == "enrol"
    assert colleague.get("/home").headers["location"] == "/account/second-factor"


def test_only_a_service_manager_resets_and_never_their_own(portal: Portal) -> None:
    manager = portal.service_manager()
    facilitator = portal.person(Role.FACILITATOR, manager)
    other = portal.person(Role.FACILITATOR, manager)
    path = f"/staff/people/{other.account_id}/second-factor"
    assert facilitator.post_form(path, {"checked_in_person": "yes"}).status_code == 403
    own = f"/staff/people/{manager.account_id}/second-factor"
    assert manager.post_form(own, {"checked_in_person": "yes"}).status_code == 404
    assert not _events(portal, AuditTag.SECOND_FACTOR_RESET)


def test_the_operator_resets_the_last_service_manager_from_the_command_line(
    portal: Portal, settings_env: dict[str, str]
) -> None:
    manager = portal.service_manager()
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "reset-second-factor", manager.name.upper()],
        env={**os.environ, **settings_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Removed 1 second factor" in result.stdout
    [event] = _events(portal, AuditTag.SECOND_FACTOR_RESET_BY_OPERATOR)
    assert (event.actor_id, event.subject_id) == (None, manager.account_id)
    assert _password_only(manager)["second_factor"] == "enrol"
    unknown = subprocess.run(
        [sys.executable, "-m", "portal.cli", "reset-second-factor", "nobody at all"],
        env={**os.environ, **settings_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert unknown.returncode == 1


def test_one_backup_code_sent_twice_at_once_lets_in_one_session(live_server: LiveServer) -> None:
    """Two sessions racing with the same backup code, in real concurrent transactions (the code's
    row is locked): exactly one passes."""
    settings = Settings.from_env(live_server.env)
    engine = make_engine(live_server.database_url)
    try:
        with httpx.Client(base_url=live_server.base_url) as http:
            portal = Portal(http, settings, engine)
            manager = portal.service_manager()
            [code, *_] = _backup_codes(manager)
            devices = []
            for _ in range(2):
                device = portal.visitor()
                device.name, device.password = manager.name, manager.password
                assert device.try_sign_in().status_code == 200
                devices.append(dict(device.jar.items()))
    finally:
        engine.dispose()

    def send(cookies: dict[str, str]) -> int:
        with httpx.Client(base_url=live_server.base_url, cookies=cookies) as client:
            return client.post(
                "/api/sign-in/second-factor",
                json={"code": code},
                headers={"X-CSRF-Token": cookies["portal_csrf"]},
            ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(send, devices))
    assert statuses == [200, 401]
