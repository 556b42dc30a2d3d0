"""Security events (docs/api-trust.md, "Refusals"): a browser that refused something reports it;
the server records security:<kind> in the audit trail, throttled, and shows it to the case's
facilitators and every service manager on their home page."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal import protocol
from portal.accounts.models import Role
from portal.accounts.throttle import REPORTS_PER_WINDOW
from portal.audit.models import AuditEvent
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal

KINDS = [
    "case-key-not-genuine",
    "case-grant-not-genuine",
    "release-not-genuine",
    "invitation-not-genuine",
    "trust-log-not-genuine",
]


def _events(portal: Portal) -> list[AuditEvent]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(AuditEvent).where(AuditEvent.tag.like("security:%")).order_by(AuditEvent.id)
            )
        )


def _report(person: Person, **body: object) -> int:
    return person.post_json("/api/security-events", body).status_code


def test_a_participant_reports_a_case_key_for_their_case(portal: Portal) -> None:
    world = CaseWorld.build(portal)

    answer = world.harmed.post_json(
        "/api/security-events", {"kind": "case-key-not-genuine", "case_id": world.case_id}
    )

    assert answer.status_code == 200
    assert answer.json() == {"recorded": "security:case-key-not-genuine"}
    [event] = _events(portal)
    assert (event.tag, event.actor_id, event.subject_id) == (
        "security:case-key-not-genuine",
        world.harmed.account_id,
        world.case_id,
    )


def test_every_kind_in_the_contract_is_recorded_and_nothing_else(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "A letter.")
    code = world.invite_supporter(world.add_supporter_place(world.harmed), world.harmed)
    lookup_id = protocol.invitation_secrets(protocol.decode_invitation_code(code)).lookup_id
    bodies: dict[str, dict[str, object]] = {
        "case-key-not-genuine": {"case_id": world.case_id},
        "case-grant-not-genuine": {"case_id": world.case_id},
        "release-not-genuine": {"message_id": message_id},
        "invitation-not-genuine": {"lookup_id": lookup_id},
        "trust-log-not-genuine": {},
    }
    for kind in KINDS:
        assert _report(world.facilitator, kind=kind, **bodies[kind]) == 200, kind
    assert [e.tag for e in _events(portal)] == [f"security:{kind}" for kind in KINDS]
    for junk in ("case-key", "security:case-key-not-genuine", "", None, 3, ["trust-log"]):
        assert _report(world.facilitator, kind=junk) == 400
    assert len(_events(portal)) == len(KINDS)


def test_someone_joining_reports_an_invitation_without_a_session(portal: Portal) -> None:
    root = portal.service_root()
    code = root.invite(Role.FACILITATOR)
    lookup_id = protocol.invitation_secrets(protocol.decode_invitation_code(code)).lookup_id
    joining = portal.visitor()

    assert _report(joining, kind="invitation-not-genuine", lookup_id=lookup_id) == 200

    [event] = _events(portal)
    assert event.actor_id is None
    # Nothing else without a session; and only invitations this service made.
    assert _report(joining, kind="trust-log-not-genuine") == 401
    assert _report(joining, kind="case-key-not-genuine", case_id=str(uuid.uuid4())) == 401
    assert _report(joining, kind="invitation-not-genuine", lookup_id="0" * 32) == 404
    assert _report(joining, kind="invitation-not-genuine") == 400
    assert _report(joining, kind="invitation-not-genuine", lookup_id="not hex") == 400
    assert _report(joining, kind="trust-log-not-genuine", lookup_id=lookup_id) == 400
    assert len(_events(portal)) == 1


def test_nobody_reports_about_a_case_or_letter_they_are_not_in(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "A letter.")
    outsiders = [
        other.facilitator,
        other.harmed,
        portal.service_root(),  # not in any case: it sees reports, it does not make them
        portal.person(Role.SUPPORTER),
    ]
    for person in outsiders:
        assert _report(person, kind="case-key-not-genuine", case_id=world.case_id) == 404
        assert _report(person, kind="release-not-genuine", message_id=message_id) == 404
    # A case and a letter that do not go together.
    assert (
        _report(
            other.harmed,
            kind="release-not-genuine",
            case_id=other.case_id,
            message_id=message_id,
        )
        == 404
    )
    assert _report(world.harmed, kind="case-key-not-genuine", case_id=str(uuid.uuid4())) == 404
    assert _report(world.harmed, kind="case-key-not-genuine", case_id="not-an-id") == 400
    assert _events(portal) == []


def test_reports_are_throttled_per_account_and_per_address(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    for _ in range(REPORTS_PER_WINDOW):
        assert _report(world.harmed, kind="trust-log-not-genuine") == 200
    assert _report(world.harmed, kind="trust-log-not-genuine") == 429
    # Another account is counted on its own.
    assert _report(world.responsible, kind="trust-log-not-genuine") == 200

    code = world.invite_supporter(world.add_supporter_place(world.harmed), world.harmed)
    lookup_id = protocol.invitation_secrets(protocol.decode_invitation_code(code)).lookup_id
    joining = portal.visitor()
    for _ in range(REPORTS_PER_WINDOW):
        assert _report(joining, kind="invitation-not-genuine", lookup_id=lookup_id) == 200
    # Someone else at the same address (every test client is one address) waits too.
    assert _report(portal.visitor(), kind="invitation-not-genuine", lookup_id=lookup_id) == 429
    assert len(_events(portal)) == 2 * REPORTS_PER_WINDOW + 1


@pytest.mark.parametrize("kind", ["case-key-not-genuine", "release-not-genuine"])
def test_the_cases_facilitators_and_every_service_manager_see_it_at_home(
    portal: Portal, kind: str
) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "A letter.")
    body = (
        {"case_id": world.case_id} if kind == "case-key-not-genuine" else {"message_id": message_id}
    )
    assert _report(world.harmed, kind=kind, **body) == 200

    heading = "Something could not be confirmed as genuine"
    facilitator_home = world.facilitator.get("/home").text
    assert heading in facilitator_home
    assert world.case_id in facilitator_home  # the link to the case
    for manager in (portal.service_root(), portal.service_manager()):
        home = manager.get("/home").text
        assert heading in home
        assert "data-security-event" in home
    for person in (other.facilitator, world.harmed, world.responsible, other.harmed):
        assert heading not in person.get("/home").text


def test_a_report_without_a_case_is_seen_by_service_managers_only(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    assert _report(world.harmed, kind="trust-log-not-genuine") == 200
    assert "Something could not be confirmed" in portal.service_root().get("/home").text
    assert "Something could not be confirmed" not in world.facilitator.get("/home").text
