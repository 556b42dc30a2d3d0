"""Facilitator teams over HTTP with real crypto: a facilitator adds a certified colleague, whose
key comes from the adding facilitator's browser; the colleague then reads the case like its
first facilitator. Refusals: not certified, disabled, not a facilitator, already on the case,
a closed case, someone from another case, a malformed grant."""

from __future__ import annotations

from sqlalchemy import select

from portal import protocol
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal

b64 = protocol.b64encode


def grant_for(world: CaseWorld, colleague: Person) -> str:
    return b64(
        protocol.make_case_grant(
            world.facilitator.secret_key, colleague.public_key, world.case_id, world.case_sk
        )
    )


def add(world: CaseWorld, colleague: Person, by: Person | None = None) -> int:
    adder = by or world.facilitator
    return adder.post_json(
        f"/api/cases/{world.case_id}/facilitators",
        {"account_id": colleague.account_id, "grant": grant_for(world, colleague)},
    ).status_code


def test_an_added_colleague_holds_the_case_key_and_reviews(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert colleague.name in page  # offered in "Add a colleague to this case"
    world.add_colleague(colleague)
    assert world.case_secret_key(colleague) == world.case_sk
    message_id = world.write_letter(world.responsible, "Words.")
    _item, text = world.review(message_id, colleague)
    assert text == "Words."
    page = colleague.get(f"/cases/{world.case_id}").text
    assert f"{colleague.name}, added by {world.facilitator.name}" in page
    with portal.db() as db:
        tags = db.scalars(
            select(AuditEvent.tag).where(AuditEvent.subject_id == world.case_id)
        ).all()
    assert "case:facilitator-added" in tags


def test_only_a_certified_active_facilitator_can_be_added(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    manager = portal.service_manager()
    uncertified = portal.visitor().join_invited(manager.invite(Role.FACILITATOR))
    assert add(world, uncertified) == 409
    participant = world.harmed
    assert add(world, participant) == 400
    revoked = portal.person(Role.FACILITATOR)
    disabled = portal.service_root().post_form(f"/staff/people/{revoked.account_id}/disable")
    assert disabled.status_code == 303
    assert add(world, revoked) == 409
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert uncertified.name not in page
    assert revoked.name not in page


def test_a_colleague_is_added_once_and_never_to_a_closed_case(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    assert add(world, colleague) == 409
    later = portal.person(Role.FACILITATOR)
    world.facilitator.post_json(
        f"/api/cases/{world.case_id}/status", {"status": "closed", "closing_reason": "completed"}
    )
    assert add(world, later) == 409


def test_someone_from_another_case_cannot_add_to_this_one(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    assert add(world, colleague, by=other.facilitator) == 404
    assert add(world, colleague, by=colleague) == 404


def test_a_malformed_grant_or_account_is_a_clear_400(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    url = f"/api/cases/{world.case_id}/facilitators"
    for body in (
        {"account_id": colleague.account_id, "grant": "AAAA"},
        {"account_id": colleague.account_id},
        {"grant": grant_for(world, colleague)},
        {"account_id": "no such account", "grant": grant_for(world, colleague)},
    ):
        answer = world.facilitator.post_json(url, body)
        assert answer.status_code == 400, body
    assert world.case_secret_key(world.facilitator) == world.case_sk
