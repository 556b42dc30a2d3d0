"""Cases nobody active holds, over HTTP with real crypto (portal/cases/team.py reassign): when a
case's only facilitator is disabled, the service manager's home lists it with how long, and the
manager gives it to a certified facilitator; the manager is never put on the case and is given
nothing. The disabled facilitator's place and grants go; the new facilitator's browser makes the
next epoch from nothing, so participants write again, and what came before stays unreadable to
them (their page says so)."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.cases.models import CaseFacilitator, CaseKeyGrant
from portal.cases.states import HAS_FACILITATOR
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal


def disable(portal: Portal, person: Person) -> None:
    answer = portal.service_root().post_form(f"/staff/people/{person.account_id}/disable")
    assert answer.status_code == 303


def reassign(manager: Person, world: CaseWorld, to: Person) -> tuple[int, dict[str, str]]:
    answer = manager.post_json(
        f"/staff/cases/{world.case_id}/reassign", {"account_id": to.account_id}
    )
    assert answer.headers["content-type"].startswith("application/json"), (
        answer.status_code,
        answer.text[-3000:],
    )
    return answer.status_code, answer.json()


def test_a_manager_reassigns_a_case_whose_facilitator_was_disabled(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    before = world.write_letter(world.responsible, "Before.")
    manager = portal.service_manager()
    newcomer = portal.person(Role.FACILITATOR)
    assert "Cases without a facilitator" not in manager.get("/home").text
    disable(portal, world.facilitator)
    home = manager.get("/home").text
    assert "Cases without a facilitator" in home
    assert f'data-unattended-case="{world.case_id}"' in home
    assert f"Case {world.reference}" in home
    assert "without a facilitator since" in home
    assert f'<option value="{newcomer.account_id}">' in home

    status, answer = reassign(manager, world, newcomer)
    assert status == 200, answer
    assert answer == {"account_id": newcomer.account_id, "next": "/home"}
    assert "Cases without a facilitator" not in manager.get("/home").text
    with portal.db() as db:
        team = set(
            db.scalars(
                select(CaseFacilitator.account_id).where(CaseFacilitator.case_id == world.case_id)
            )
        )
        holders = set(
            db.scalars(
                select(CaseKeyGrant.recipient_id).where(CaseKeyGrant.case_id == world.case_id)
            )
        )
        tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == world.case_id)))
    assert team == {newcomer.account_id}
    assert holders == set()  # the disabled facilitator's grants are gone; nobody else had any
    assert "case:reassigned" in tags
    # The manager is never on the case and holds nothing of it.
    assert manager.get(f"/cases/{world.case_id}").status_code in {403, 404}
    assert manager.get(f"/api/cases/{world.case_id}/key").status_code in {403, 404}

    # The newcomer's page makes the key from nothing, and says the past stays locked.
    page = newcomer.get(f"/cases/{world.case_id}").text
    assert "data-without-key" in page
    assert "Names and letters from before this stay locked" in page
    assert newcomer.get(f"/api/cases/{world.case_id}/key").status_code == 400
    world.start_next_epoch(newcomer, [newcomer], chain=False, epoch=2)
    key = newcomer.get(f"/api/cases/{world.case_id}/key").json()
    assert (key["epoch"], key["previous"]) == (2, [])
    _item, text = world.review(world.write_letter(world.responsible, "After."), newcomer)
    assert text == "After."
    assert newcomer.post_json(f"/api/messages/{before}/claim").status_code == 200


def test_only_a_case_nobody_active_holds_is_reassigned_and_only_to_a_certified_facilitator(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    manager = portal.service_manager()
    newcomer = portal.person(Role.FACILITATOR)
    status, answer = reassign(manager, world, newcomer)
    assert (status, answer["error"]) == (409, HAS_FACILITATOR)
    disable(portal, world.facilitator)
    uncertified = portal.visitor().join_invited(manager.invite(Role.FACILITATOR))
    assert reassign(manager, world, uncertified)[0] == 409
    assert reassign(manager, world, world.harmed)[0] == 400
    assert reassign(manager, world, world.facilitator)[0] == 409  # disabled
    missing = manager.post_json(
        "/staff/cases/00000000-0000-4000-8000-000000000000/reassign",
        {"account_id": newcomer.account_id},
    )
    assert missing.status_code == 404
    # A facilitator cannot reassign, even one of the service's.
    assert newcomer.post_json(
        f"/staff/cases/{world.case_id}/reassign", {"account_id": newcomer.account_id}
    ).status_code in {403, 404}
    assert reassign(manager, world, newcomer)[0] == 200
