"""Every route, for every role: only the expected ones get through.

The table below must name every route in ``portal.routes``: a new route without a row fails
``test_matrix_covers_every_route``, so nobody can add an endpoint without deciding who may use it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from sqlalchemy import select
from starlette.routing import Mount, Route

from portal.accounts.models import KnownBrowser, Role, SignInSession
from portal.invitations.models import Invitation
from portal.routes import routes
from tests.factories import Person, Portal
from tests.http.test_authorisation_cases import CASE_MATRIX, route_template

ANON = "anonymous"
SM, FAC, PART, SUP = (
    Role.SERVICE_MANAGER.value,
    Role.FACILITATOR.value,
    Role.PARTICIPANT.value,
    Role.SUPPORTER.value,
)
EVERYONE_SIGNED_IN = frozenset({SM, FAC, PART, SUP})
STAFF = frozenset({SM, FAC})
ALL = frozenset({ANON}) | EVERYONE_SIGNED_IN

# (method, path template) -> who gets a success (2xx, or a redirect that is not to sign-in).
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): ALL,
    ("GET", "/healthz"): ALL,
    ("GET", "/sign-in"): ALL,
    ("GET", "/join"): ALL,
    ("GET", "/setup"): ALL,
    ("GET", "/recover"): ALL,
    ("POST", "/sign-out"): ALL,
    ("POST", "/session/quick-exit"): ALL,
    ("POST", "/api/join/start"): frozenset(),  # needs a valid code: nobody, with a made-up one
    ("POST", "/api/join/complete"): frozenset(),
    ("POST", "/api/sign-in/params"): ALL,
    ("POST", "/api/sign-in"): frozenset(),  # nobody, with a made-up key
    ("POST", "/api/recovery/start"): frozenset(),
    ("POST", "/api/recovery/complete"): frozenset(),
    ("GET", "/home"): EVERYONE_SIGNED_IN,
    ("GET", "/account"): EVERYONE_SIGNED_IN,
    ("GET", "/account/password"): EVERYONE_SIGNED_IN,
    ("GET", "/account/sessions"): EVERYONE_SIGNED_IN,
    ("POST", "/account/sessions/end-others"): EVERYONE_SIGNED_IN,
    ("POST", "/account/sessions/{session_id}/end"): EVERYONE_SIGNED_IN,
    # Only one's own browsers: here another person's, 404 for everyone (the owner's own:
    # tests/http/test_known_browsers.py).
    ("POST", "/account/browsers/{browser_id}/forget"): frozenset(),
    # Notices by e-mail (tests/http/test_notices.py): this table's portal has no mail server,
    # so nobody can turn them on or ask for a test; turning off (erasing) always works.
    ("GET", "/account/notices"): EVERYONE_SIGNED_IN,
    ("POST", "/account/notices"): frozenset(),
    ("POST", "/account/notices/off"): EVERYONE_SIGNED_IN,
    ("POST", "/account/notices/test"): frozenset(),
    ("GET", "/api/session"): EVERYONE_SIGNED_IN,
    ("GET", "/api/session/status"): EVERYONE_SIGNED_IN,
    ("POST", "/api/session/keepalive"): EVERYONE_SIGNED_IN,
    ("GET", "/api/account/kdf"): EVERYONE_SIGNED_IN,
    ("POST", "/api/account/password"): frozenset(),  # nobody, with a made-up current key
    ("GET", "/staff/invitations"): STAFF,
    # Only the person who made the invitation (or the service manager): see the own/other tests.
    ("POST", "/staff/invitations/{invitation_id}/revoke"): frozenset({SM}),
    ("GET", "/staff/people"): frozenset({SM}),
    # Only a service manager, and never their own account: see tests/http/test_staff.py.
    ("POST", "/staff/people/{account_id}/disable"): frozenset({SM}),
    # Trust anchors (docs/api-trust.md); the refusals of each are in tests/http/test_trust.py.
    ("GET", "/api/trust"): EVERYONE_SIGNED_IN,
    ("GET", "/staff/certify"): frozenset({SM}),
    # Nobody, with a made-up statement (a real one from a service manager: test_trust.py).
    ("POST", "/api/trust/certificates"): frozenset(),
    # Nobody, with a made-up statement (the root's real one, and every refusal: test_trust.py).
    ("POST", "/api/trust/root-handover"): frozenset(),
    # Nobody here: everyone made by the factories registered their key when joining.
    ("POST", "/api/account/signing-key"): frozenset(),
    # A service manager for staff; a facilitator only for the participants and supporters of
    # their own cases, which this table's people have none of (test_trust.py,
    # test_supporters.py).
    ("POST", "/api/invitations/prepare"): frozenset({SM}),
    # Only the inviter, who is nobody here: the invitation is another facilitator's.
    ("POST", "/api/invitations/{invitation_id}/seal"): frozenset(),
    # Everyone signed in; someone joining reports only an invitation (test_trust.py).
    ("POST", "/api/security-events"): EVERYONE_SIGNED_IN,
    # Referrals (docs/api-referrals.md; every refusal in tests/http/test_referrals.py): the
    # public pages and the key for anyone; sending needs a referral key, which nobody set up
    # here; the Referrals page for service managers; setting up, giving and removing access
    # need a real statement, grant or designation; my grant only for a holder.
    ("GET", "/refer"): ALL,
    ("GET", "/refer/self"): ALL,
    ("GET", "/api/referrals/key"): ALL,
    ("POST", "/api/referrals"): frozenset(),
    ("GET", "/referrals"): frozenset({SM}),
    # The service's figures (tests/http/test_reports.py).
    ("GET", "/staff/reports"): frozenset({SM}),
    ("GET", "/staff/reports.csv"): frozenset({SM}),
    ("GET", "/staff/reports/print"): frozenset({SM}),
    # The free text of anonymous feedback, as ciphertext (tests/http/test_feedback.py).
    ("GET", "/staff/reports/feedback"): frozenset({SM}),
    # Anonymous feedback: only a participant or supporter of a closed case, which this table's
    # people are not, so nobody here (tests/http/test_feedback.py).
    ("GET", "/feedback"): frozenset(),
    ("POST", "/api/feedback"): frozenset(),
    ("POST", "/api/feedback/dismiss"): frozenset(),
    ("POST", "/referrals/key"): frozenset(),
    ("POST", "/referrals/access"): frozenset(),
    ("POST", "/referrals/readers/{account_id}/remove"): frozenset(),
    ("GET", "/api/referrals/my-grant"): frozenset(),
    # Service managers whose signature counts (the table's is the root) and designated
    # facilitators (none here); a made-up referral id is 404 for everyone.
    ("GET", "/referrals/inbox"): frozenset({SM}),
    ("GET", "/referrals/received/{referral_id}"): frozenset(),
    # Triage (tests/http/test_referral_triage.py): holders of the referral key only (403 for
    # anyone else); a made-up referral id is 404.
    ("POST", "/referrals/received/{referral_id}/ask-more"): frozenset(),
    ("POST", "/referrals/received/{referral_id}/accept"): frozenset(),
    ("POST", "/referrals/received/{referral_id}/decline"): frozenset(),
    # The second factor (tests/http/test_second_factor.py; what a session owing it reaches:
    # test_second_factor_gate.py). The step after the password: the page sends a session that
    # owes nothing home; passing it with nothing owed is refused for everyone.
    ("GET", "/sign-in/second-factor"): EVERYONE_SIGNED_IN,
    ("POST", "/api/sign-in/second-factor"): frozenset(),
    ("POST", "/api/sign-in/second-factor/passkey-options"): frozenset(),
    ("POST", "/api/sign-in/second-factor/passkey"): frozenset(),
    # Anyone's own factors; confirming an app or a passkey needs the ceremony started first;
    # backup codes need a factor (staff hold one); a made-up factor id is 404 for everyone.
    ("GET", "/account/second-factor"): EVERYONE_SIGNED_IN,
    ("GET", "/account/second-factor/app"): EVERYONE_SIGNED_IN,
    ("POST", "/account/second-factor/app"): frozenset(),
    ("POST", "/api/account/second-factor/passkey-options"): EVERYONE_SIGNED_IN,
    ("POST", "/api/account/second-factor/passkey"): frozenset(),
    ("POST", "/account/second-factor/backup-codes"): STAFF,
    ("POST", "/account/second-factor/{factor_id}/remove"): frozenset(),
    # A service manager, for a colleague; the reset itself needs the tick box (400 here).
    ("GET", "/staff/people/{account_id}/second-factor"): frozenset({SM}),
    ("POST", "/staff/people/{account_id}/second-factor"): frozenset(),
}

FAKE_KEY = "A" * 43
FAKE_BUNDLE = "A" * 96
BODIES: dict[str, dict[str, object]] = {
    "/api/join/start": {"code": "AAAA-BBBB-CCCC-DDDD"},
    "/api/join/complete": {
        "code": "AAAA-BBBB-CCCC-DDDD",
        "sign_in_name": "someone",
        "public_key": FAKE_KEY,
        "auth_key": FAKE_KEY,
        "bundle": FAKE_BUNDLE,
        "recovery_auth": FAKE_KEY,
        "recovery_bundle": FAKE_BUNDLE,
    },
    "/api/sign-in/params": {"sign_in_name": "someone"},
    "/api/sign-in": {"sign_in_name": "someone", "auth_key": FAKE_KEY},
    "/api/recovery/start": {"sign_in_name": "someone", "recovery_auth": FAKE_KEY},
    "/api/recovery/complete": {
        "sign_in_name": "someone",
        "recovery_auth": FAKE_KEY,
        "salt": "A" * 22,
        "ops": 1,
        "mem": 8388608,
        "auth_key": FAKE_KEY,
        "bundle": FAKE_BUNDLE,
        "new_recovery_auth": FAKE_KEY,
        "new_recovery_bundle": FAKE_BUNDLE,
    },
    "/api/account/password": {
        "current_auth_key": FAKE_KEY,
        "salt": "A" * 22,
        "ops": 1,
        "mem": 8388608,
        "auth_key": FAKE_KEY,
        "bundle": FAKE_BUNDLE,
    },
    "/api/trust/certificates": {"statement": FAKE_KEY, "signature": "A" * 86},
    "/api/trust/root-handover": {"statement": FAKE_KEY, "signature": "A" * 86},
    "/api/account/signing-key": {"signing_public_key": FAKE_KEY},
    "/api/invitations/prepare": {"role": "supporter"},
    "/api/invitations/{invitation_id}/seal": {
        "lookup_id": "0" * 32,
        "redeem_proof_hash": FAKE_KEY,
        "mac": FAKE_KEY,
    },
    "/api/security-events": {"kind": "trust-log-not-genuine"},
    "/api/referrals": {
        "channel": "agency",
        "source": "police",
        "key_id": "0b0e0f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
        "ciphertext": "A" * 2868,
    },
    "/referrals/key": {"key_id": "0b0e0f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "grant": FAKE_KEY},
    "/referrals/access": {"account_id": "0b0e0f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "grant": FAKE_KEY},
    "/api/sign-in/second-factor": {"code": "000000"},
    "/account/second-factor/app": {"code": "000000"},
    "/api/sign-in/second-factor/passkey": {"credential": {"rawId": "AAAA"}},
    "/api/account/second-factor/passkey": {"credential": {"rawId": "AAAA"}},
}


def test_matrix_covers_every_route() -> None:
    table = set()
    for route in routes():
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                table.add((method, route.path))
    # The case matrix names e.g. a released letter {released_id}; the route says {message_id}.
    case_routes = {(m, route_template(p)) for m, p in CASE_MATRIX}
    assert table == set(MATRIX) | case_routes


def _people(portal: Portal) -> dict[str, Callable[[], Person]]:
    """Who calls a route, by role: someone new each call, so that no route's answer depends on
    what an earlier route did to its caller (signed them out, ended their sessions...).

    Their inviters are made once, on first need, and kept: a service manager who invites the
    facilitators, and a facilitator who invites the participants and supporters. Nobody new
    needs a new inviter, and making one for each of the table's hundred-odd routes was most of
    this test's time (three joins and two certifications for each supporter).
    """
    inviting_manager = functools.cache(portal.service_manager)
    inviting_facilitator = functools.cache(
        lambda: portal.person(Role.FACILITATOR, inviting_manager())
    )
    return {
        ANON: portal.visitor,
        SM: portal.service_manager,
        FAC: lambda: portal.person(Role.FACILITATOR, inviting_manager()),
        PART: lambda: portal.person(Role.PARTICIPANT, inviting_facilitator()),
        SUP: lambda: portal.person(Role.SUPPORTER, inviting_facilitator()),
    }


def _call(
    person: Person, method: str, template: str, portal: Portal, owner: Person
) -> tuple[int, str]:
    path = template
    if "{session_id}" in template:
        path = template.replace("{session_id}", _session_of(portal, person, owner))
    if "{browser_id}" in template:
        path = template.replace("{browser_id}", _browser_of(portal, owner))
    if "{account_id}" in template:
        path = template.replace("{account_id}", owner.account_id)
    if "{referral_id}" in template:
        path = template.replace("{referral_id}", "0b0e0f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f")
    if "{invitation_id}" in template:
        path = template.replace("{invitation_id}", _invitation_by(portal, owner))
    body = BODIES.get(template, {})
    if template == "/api/invitations/prepare" and person.role == SM:
        body = {"role": "facilitator"}  # the service manager brings in staff
    if method == "GET":
        response = person.get(path)
    elif template.startswith("/api/"):
        response = person.post_json(path, body)
    else:
        response = person.post_form(path, {k: str(v) for k, v in body.items()})
    return response.status_code, response.headers.get("location", "")


def _session_of(portal: Portal, person: Person, owner: Person) -> str:
    with portal.db() as db:
        found = db.scalars(
            select(SignInSession.id).where(
                SignInSession.account_id == (person.account_id or owner.account_id)
            )
        ).first()
    assert found is not None
    return found


def _browser_of(portal: Portal, owner: Person) -> str:
    with portal.db() as db:
        found = db.scalars(
            select(KnownBrowser.id).where(KnownBrowser.account_id == owner.account_id)
        ).first()
    assert found is not None
    return found


def _invitation_by(portal: Portal, facilitator: Person) -> str:
    portal.invitation_code(facilitator, Role.PARTICIPANT)
    with portal.db() as db:
        found = db.scalars(
            select(Invitation.id)
            .where(Invitation.created_by_id == facilitator.account_id)
            .order_by(Invitation.created_at.desc())
        ).first()
    assert found is not None
    return found


def _succeeded(status: int, location: str) -> bool:
    """2xx, or a redirect anywhere except back to signing in."""
    refused = location.startswith("/sign-in?reason=signin") or location.startswith(
        "/sign-in?reason=expired"
    )
    return status < 300 or (status == 303 and not refused)


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_reaches_exactly_its_routes(portal: Portal, role: str) -> None:
    # Resources with an owner (invitations) belong to a facilitator other than the caller.
    owner = portal.person(Role.FACILITATOR)
    people = _people(portal)
    failures = []
    for (method, template), allowed in MATRIX.items():
        person = people[role]()
        status, location = _call(person, method, template, portal, owner)
        assert status < 500, f"{method} {template} as {role}: {status}"
        if (role in allowed) != _succeeded(status, location):
            failures.append(f"{method} {template} as {role}: {status} {location}")
    assert not failures, "\n".join(failures)


def test_facilitator_cannot_withdraw_another_facilitators_invitation(portal: Portal) -> None:
    owner = portal.person(Role.FACILITATOR)
    other = portal.person(Role.FACILITATOR)
    invitation_id = _invitation_by(portal, owner)
    response = other.post_form(f"/staff/invitations/{invitation_id}/revoke")
    assert response.status_code == 404
    assert "Waiting" in owner.get("/staff/invitations").text
    assert owner.post_form(f"/staff/invitations/{invitation_id}/revoke").status_code == 303


def test_facilitator_sees_only_own_invitations(portal: Portal) -> None:
    owner = portal.person(Role.FACILITATOR)
    other = portal.person(Role.FACILITATOR)
    _invitation_by(portal, owner)
    assert "No invitations yet." in other.get("/staff/invitations").text
