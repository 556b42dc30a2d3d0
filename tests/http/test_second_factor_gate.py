"""A staff session that has proved only the password reaches no case, queue, referral, report
or staff page, and no API behind them: every route of the authorisation tables, tried.

The routes a session owing its step may reach are named here once; every other route must
send a page to the step (303) or answer a JSON call with 403 naming the step.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from portal.accounts.models import Role, SignInSession
from tests.factories import Person, Portal
from tests.http.test_authorisation_cases import CASE_MATRIX, route_template
from tests.http.test_authorisation_matrix import MATRIX

# Reachable whatever is owed: signing in and out, the session's own status.
ALWAYS = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/sign-in"),
    ("GET", "/recover"),
    ("POST", "/sign-out"),
    ("POST", "/session/quick-exit"),
    ("POST", "/api/sign-in/params"),
    ("POST", "/api/sign-in"),
    ("POST", "/api/recovery/start"),
    ("POST", "/api/recovery/complete"),
    ("GET", "/api/session"),
    ("GET", "/api/session/status"),
    ("POST", "/api/session/keepalive"),
}
WHILE_VERIFYING = ALWAYS | {
    ("GET", "/sign-in/second-factor"),
    ("POST", "/api/sign-in/second-factor"),
    ("POST", "/api/sign-in/second-factor/passkey-options"),
    ("POST", "/api/sign-in/second-factor/passkey"),
}
WHILE_ENROLLING = ALWAYS | {
    ("GET", "/account/second-factor"),
    ("GET", "/account/second-factor/app"),
    ("POST", "/account/second-factor/app"),
    ("POST", "/api/account/second-factor/passkey-options"),
    ("POST", "/api/account/second-factor/passkey"),
    # Joining saves the pins its invitation vouches for (a session that may add a factor
    # gains nothing more from its own vault).
    ("GET", "/api/vault"),
    ("PUT", "/api/vault"),
}
STEP_PAGE = {"verify": "/sign-in/second-factor", "enrol": "/account/second-factor"}
SOME_ID = "0b0e0f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f"


def every_route() -> set[tuple[str, str]]:
    return set(MATRIX) | {(method, route_template(path)) for method, path in CASE_MATRIX}


def _call(person: Person, method: str, template: str) -> tuple[int, str, str]:
    # The gate answers before any handler looks at the path or the body: any id will do.
    path = re.sub(r"\{[a-z_]+\}", lambda _: SOME_ID, template)
    if method == "GET":
        response = person.get(path)
    elif path.startswith("/api/"):
        response = person.request(method, path, json={}, headers={"X-CSRF-Token": person.csrf()})
    else:
        response = person.request(method, path, data={"csrf_token": person.csrf()})
    return response.status_code, response.headers.get("location", ""), response.text


def _owing(portal: Portal, role: Role, step: str) -> Person:
    """A member of staff signed in with the password only, owing ``step``."""
    person = portal.person(role)
    person.forget_cookies()
    signed_in = person.try_sign_in()
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["second_factor"] == "verify"
    assert signed_in.json()["next"] == "/sign-in/second-factor"
    if step == "enrol":  # as a session of staff without any factor starts (migration too)
        with portal.db() as db:
            db.execute(
                update(SignInSession)
                .where(SignInSession.account_id == person.account_id)
                .values(second_factor_due="enrol")
            )
            db.commit()
    return person


@pytest.mark.parametrize("step", ["verify", "enrol"])
@pytest.mark.parametrize("role", [Role.SERVICE_MANAGER, Role.FACILITATOR])
def test_staff_without_the_second_factor_reach_no_route_but_the_step(
    portal: Portal, role: Role, step: str
) -> None:
    person = _owing(portal, role, step)
    allowed = WHILE_VERIFYING if step == "verify" else WHILE_ENROLLING
    failures = []
    for method, template in sorted(every_route() - allowed):
        status, location, text = _call(person, method, template)
        # A page goes to the step's page; a JSON endpoint (every /api/ one, and a few forms
        # that answer JSON) says which step is owed.
        sent_to_step = status == 303 and location == STEP_PAGE[step]
        told_step = status == 403 and f'"second_factor":"{step}"' in text.replace(" ", "")
        ok = told_step if template.startswith("/api/") else sent_to_step or told_step
        if not ok:
            failures.append(f"{method} {template}: {status} {location}")
    assert not failures, "\n".join(failures)
    # Refused for owing the step, not for being signed out: the session is still live.
    assert person.get("/api/session/status").status_code == 200


def test_the_gate_names_every_route_it_lets_through() -> None:
    assert every_route() >= WHILE_VERIFYING
    assert every_route() >= WHILE_ENROLLING
