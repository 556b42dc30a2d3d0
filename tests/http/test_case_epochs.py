"""Removing a facilitator, handing a case over, and the next case key epoch, over HTTP with
real crypto (portal/cases/team.py). The one who left holds nothing any more: no place on the
case, no grant of any epoch, and the new epoch's key is never boxed to them. Until a remaining
facilitator's browser has made the new epoch, nothing is sealed to the old key (participants
wait with a plain sentence; notes and key handovers are refused). Afterwards participants seal
to the new key, and the team still reads what came before through each epoch's grant of the
previous key."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from portal import protocol
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.cases.models import Case, CaseKeyGrant
from portal.cases.states import KEY_CHANGE_FIRST, LAST_FACILITATOR
from portal.messages.services import KEY_CHANGING
from portal.workspace.facilitator_home import HANDED_OVER_SHOWN
from tests.cases_world import CaseWorld, open_case, open_reviewed_letter
from tests.factories import Person, Portal

b64 = protocol.b64encode


def pair(portal: Portal) -> tuple[CaseWorld, Person]:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    return world, colleague


def grants_of(portal: Portal, world: CaseWorld, person: Person) -> list[int]:
    with portal.db() as db:
        return sorted(
            db.scalars(
                select(CaseKeyGrant.epoch).where(
                    CaseKeyGrant.case_id == world.case_id,
                    CaseKeyGrant.recipient_id == person.account_id,
                )
            )
        )


def tags_of(portal: Portal, world: CaseWorld) -> list[str]:
    with portal.db() as db:
        return list(
            db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == world.case_id))
        )


def older_key(world: CaseWorld, facilitator: Person) -> bytes:
    """Epoch 1's secret as a facilitator's browser reaches it from the current key."""
    key = facilitator.get(f"/api/cases/{world.case_id}/key").json()
    (previous,) = key["previous"]
    assert previous["epoch"] == key["epoch"] == 2
    return protocol.open_case_grant(
        world.case_sk, world.case_pk, world.case_id, protocol.b64decode(previous["grant"])
    )


def test_a_removed_colleague_can_no_longer_open_the_case_and_holds_no_grant(
    portal: Portal,
) -> None:
    world, colleague = pair(portal)
    before = world.write_letter(world.responsible, "Before.")
    removed = world.remove_facilitator(colleague)
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"key_change_pending": True}
    assert grants_of(portal, world, colleague) == []
    assert colleague.get(f"/cases/{world.case_id}").status_code == 404
    assert colleague.get(f"/api/cases/{world.case_id}/key").status_code == 404
    assert colleague.get(f"/api/messages/{before}/review").status_code == 404
    key = world.facilitator.get(f"/api/cases/{world.case_id}/key").json()
    assert key["key_change_pending"] is True
    assert "case:facilitator-removed" in tags_of(portal, world)
    # The page says it, and this browser is asked to make the next epoch.
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert "data-needs-new-epoch" in page
    assert 'data-next-epoch="2"' in page
    assert colleague.name not in page.split('id="team-list"')[1].split("</ul>")[0]
    # A task on each remaining facilitator's home until the epoch is made, none for the one
    # who left.
    home = world.facilitator.get("/home").text
    assert "A case needs its new key" in home
    assert f'data-new-key-case="{world.case_id}"' in home
    assert "A case needs its new key" not in colleague.get("/home").text
    # And in the review queue, as a task like a letter waiting.
    queue = world.facilitator.get("/queue").text
    assert "A case needs its new key" in queue
    assert f'data-new-key-case="{world.case_id}"' in queue
    assert "A case needs its new key" not in colleague.get("/queue").text
    world.start_next_epoch(world.facilitator, [world.facilitator])
    assert "A case needs its new key" not in world.facilitator.get("/home").text
    assert "A case needs its new key" not in world.facilitator.get("/queue").text


def test_until_the_new_epoch_nothing_is_sealed_to_the_old_key(portal: Portal) -> None:
    world, colleague = pair(portal)
    waiting = world.write_letter(world.responsible, "Waiting.")
    assert world.remove_facilitator(colleague).status_code == 200
    # The participant is told plainly, and a letter sealed to the old key is refused.
    me = world.responsible.get("/api/me/case").json()
    assert me["can_write"] is False
    assert me["why_not"] == KEY_CHANGING
    object_id = world.responsible.post_json("/api/letters/objects")
    assert object_id.status_code == 409
    assert object_id.json()["error"] == KEY_CHANGING
    # A facilitator's note sealed to the old key is refused too, and no key is handed over
    # or to a new colleague.
    returned = world.return_with_feedback(waiting, "Please shorten it.")
    assert returned.status_code == 409, returned.text
    later = portal.person(Role.FACILITATOR)
    grant = protocol.make_case_grant(
        world.facilitator.secret_key, later.public_key, world.case_id, world.case_sk
    )
    added = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/facilitators",
        {"account_id": later.account_id, "grant": b64(grant)},
    )
    assert added.status_code == 409
    assert added.json()["error"] == KEY_CHANGE_FIRST
    participant_id = world.participant_id(world.harmed)
    public_grant = protocol.make_case_public_grant(
        world.facilitator.secret_key, world.harmed.public_key, world.case_id, world.case_pk
    )
    handed = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants/{participant_id}/case-key",
        {"grant": b64(public_grant)},
    )
    assert handed.status_code == 409


def test_the_new_epoch_is_used_from_then_on_and_the_past_stays_readable(
    portal: Portal,
) -> None:
    world, colleague = pair(portal)
    before = world.write_letter(world.responsible, "Before.")
    assert world.remove_facilitator(colleague).status_code == 200
    world.start_next_epoch(world.facilitator, [world.facilitator])
    assert "case:key-epoch-started" in tags_of(portal, world)
    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        assert (case.key_epoch, case.key_change_since) == (2, None)
        assert case.public_key == world.case_pk
    assert grants_of(portal, world, world.facilitator) == [1, 2]
    assert grants_of(portal, world, colleague) == []
    # Participants were given the new public key in the same step, and seal to it.
    assert world.case_key_as_seen_by(world.responsible) == world.case_pk
    assert world.case_key_as_seen_by(world.harmed) == world.case_pk
    after = world.write_letter(world.responsible, "After.")
    _item, text = world.review(after)
    assert text == "After."
    # The letter from before opens with epoch 1's key, reached from the current one.
    old_sk = older_key(world, world.facilitator)
    assert old_sk != world.case_sk
    world.facilitator.post_json(f"/api/messages/{before}/claim")
    item = world.facilitator.get(f"/api/messages/{before}/review").json()
    assert open_reviewed_letter(old_sk, item) == "Before."
    # The one who left still sees nothing of it.
    assert colleague.get(f"/api/cases/{world.case_id}/key").status_code == 404


def test_the_last_facilitator_cannot_leave_without_handing_over(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    left = world.remove_facilitator(world.facilitator)
    assert left.status_code == 409
    assert left.json()["error"] == LAST_FACILITATOR
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert "Leave this case" not in page


def test_leaving_while_a_colleague_stays_goes_home(portal: Portal) -> None:
    world, colleague = pair(portal)
    left = world.remove_facilitator(world.facilitator, by=world.facilitator)
    assert left.status_code == 200
    assert left.json()["next"] == "/home"
    assert world.facilitator.get(f"/cases/{world.case_id}").status_code == 404
    assert grants_of(portal, world, world.facilitator) == []
    world.start_next_epoch(colleague, [colleague])
    assert world.write_letter(world.harmed, "To you.")


def test_handing_over_adds_the_colleague_and_takes_me_off_in_one_step(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    before = world.write_letter(world.responsible, "Before.")
    first = world.facilitator
    successor = portal.person(Role.FACILITATOR)
    page = first.get(f"/cases/{world.case_id}").text
    assert "Hand this case over to a colleague" in page
    grant = protocol.make_case_grant(
        first.secret_key, successor.public_key, world.case_id, world.case_sk
    )
    handed = first.post_json(
        f"/api/cases/{world.case_id}/hand-over",
        {"account_id": successor.account_id, "grant": b64(grant)},
    )
    assert handed.status_code == 200, handed.text
    assert handed.json() == {"handed_to": successor.account_id, "next": "/home"}
    assert first.get(f"/cases/{world.case_id}").status_code == 404
    assert grants_of(portal, world, first) == []
    assert grants_of(portal, world, successor) == [1]
    tags = tags_of(portal, world)
    assert {"case:facilitator-added", "case:handed-over"} <= set(tags)
    # My home says where the case went (it left my list), the successor's that it is theirs.
    home = first.get("/home").text
    assert f'data-handed-over-case="{world.case_id}"' in home
    assert f"You handed case {world.reference} over to another facilitator on" in home
    assert world.reference not in first.get("/cases").text
    theirs = successor.get("/home").text
    assert f'data-handed-to-me-case="{world.case_id}"' in theirs
    assert f"{world.reference}</a> was handed over to you by another facilitator" in theirs
    assert "data-handed-over-case" not in theirs
    assert world.reference in successor.get("/cases").text
    # Nobody else is told: not a facilitator of another case.
    assert "Cases handed over" not in portal.person(Role.FACILITATOR).get("/home").text
    # The successor's browser makes epoch 2 (with the chain) and reads the past.
    page = successor.get(f"/cases/{world.case_id}").text
    assert "data-needs-new-epoch" in page
    epoch_one = world.case_sk
    world.start_next_epoch(successor, [successor])
    assert older_key(world, successor) == epoch_one
    _item, text = world.review(world.write_letter(world.responsible, "After."), successor)
    assert text == "After."
    assert successor.post_json(f"/api/messages/{before}/claim").status_code == 200


def test_the_home_lists_only_the_newest_hand_overs(portal: Portal) -> None:
    first = portal.person(Role.FACILITATOR)
    successor = portal.person(Role.FACILITATOR)
    handed: list[str] = []
    for _ in range(HANDED_OVER_SHOWN + 2):
        case_id, case_sk, _case_pk, _reference = open_case(first)
        grant = protocol.make_case_grant(first.secret_key, successor.public_key, case_id, case_sk)
        answer = first.post_json(
            f"/api/cases/{case_id}/hand-over",
            {"account_id": successor.account_id, "grant": b64(grant)},
        )
        assert answer.status_code == 200, answer.text
        handed.append(case_id)
    home = first.get("/home").text
    shown = re.findall(r'data-handed-over-case="([^"]+)"', home)
    assert shown == list(reversed(handed))[:HANDED_OVER_SHOWN]


def test_a_hand_over_to_myself_or_someone_uncertified_changes_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    me = world.facilitator
    grant = protocol.make_case_grant(me.secret_key, me.public_key, world.case_id, world.case_sk)
    to_me = me.post_json(
        f"/api/cases/{world.case_id}/hand-over", {"account_id": me.account_id, "grant": b64(grant)}
    )
    assert to_me.status_code == 400
    manager = portal.service_manager()
    uncertified = portal.visitor().join_invited(manager.invite(Role.FACILITATOR))
    to_them = me.post_json(
        f"/api/cases/{world.case_id}/hand-over",
        {"account_id": uncertified.account_id, "grant": b64(grant)},
    )
    assert to_them.status_code == 409
    assert me.get(f"/cases/{world.case_id}").status_code == 200
    assert grants_of(portal, world, me) == [1]


def epoch_post(world: CaseWorld, by: Person, fields: dict[str, Any]) -> tuple[int, str]:
    answer = by.post_json(f"/api/cases/{world.case_id}/key-epochs", fields)
    return answer.status_code, answer.json().get("error", "")


def test_a_new_epoch_must_name_exactly_who_stays_and_be_signed_for_the_next_epoch(
    portal: Portal,
) -> None:
    world, colleague = pair(portal)
    me = world.facilitator
    # Not waiting for one: refused.
    fields, _sk, _pk = world.next_epoch_fields(me, [me, colleague])
    assert epoch_post(world, me, fields)[0] == 409
    assert world.remove_facilitator(colleague).status_code == 200
    # The one who left is never boxed the new key.
    fields, _sk, _pk = world.next_epoch_fields(me, [me, colleague])
    assert epoch_post(world, me, fields)[0] == 409
    fields, _sk, new_pk = world.next_epoch_fields(me, [me])
    # A participant left out, a skipped epoch, a statement for another key or epoch.
    assert (
        epoch_post(world, me, {**fields, "participant_grants": fields["participant_grants"][1:]})[0]
        == 409
    )
    assert epoch_post(world, me, {**fields, "epoch": 3})[0] == 409
    other_pk = protocol.generate_identity()[1]
    wrong = {**fields, "case_key_statement": me.case_key_statement(world.case_id, other_pk, 2)}
    assert epoch_post(world, me, wrong)[0] == 400
    wrong = {**fields, "case_key_statement": me.case_key_statement(world.case_id, new_pk, 3)}
    assert epoch_post(world, me, wrong)[0] == 400
    # Malformed: no statement, a grant twice, a short grant, a list that is not one.
    assert epoch_post(world, me, {**fields, "case_key_statement": None})[0] == 400
    twice = fields["facilitator_grants"] * 2
    assert epoch_post(world, me, {**fields, "facilitator_grants": twice})[0] == 400
    short = [{"account_id": me.account_id, "grant": b64(b"x" * 10)}]
    assert epoch_post(world, me, {**fields, "facilitator_grants": short})[0] == 400
    assert epoch_post(world, me, {**fields, "participant_grants": "all"})[0] == 400
    assert epoch_post(world, me, {**fields, "previous_grant": "x"})[0] == 400
    # Nothing of it was kept; the right one then goes through, once.
    assert epoch_post(world, me, fields)[0] == 200
    assert epoch_post(world, me, fields)[0] == 409


def test_an_epoch_made_without_the_old_key_leaves_the_past_unreadable(portal: Portal) -> None:
    world, colleague = pair(portal)
    assert world.remove_facilitator(colleague).status_code == 200
    world.start_next_epoch(world.facilitator, [world.facilitator], chain=False)
    key = world.facilitator.get(f"/api/cases/{world.case_id}/key").json()
    assert key["previous"] == []
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert "data-needs-new-epoch" not in page
