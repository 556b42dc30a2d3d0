"""Someone who has joined waits for a facilitator's browser to hand over the case key: a task
on the facilitator's home and above the queue (portal/cases/policy.py awaiting_case_key), and a
plain sentence for the participant, until a facilitator opens the case page."""

from __future__ import annotations

from portal import protocol
from portal.cases import states
from portal.cases.models import CaseCondition
from portal.messages.composing import NOT_SET_UP
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_case_page import Ids

b64 = protocol.b64encode


def joined_without_key(world: CaseWorld, side: str = "person_harmed") -> tuple[str, Person]:
    """A participant invited, joined and agreed to letters, whose case key nobody gave yet."""
    participant_id, code = world.invite_participant(side, "Jo")
    person = world.portal.visitor().join_invited(code)
    world.participant_ids[person.account_id] = participant_id
    consent = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants/{participant_id}/consent",
        {"formats": ["letter"]},
    )
    assert consent.status_code == 200, consent.text
    return participant_id, person


def give_key(world: CaseWorld, participant_id: str, person: Person) -> None:
    grant = protocol.make_case_public_grant(
        world.facilitator.secret_key, person.public_key, world.case_id, world.case_pk
    )
    given = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants/{participant_id}/case-key",
        {"grant": b64(grant)},
    )
    assert given.json() == {"ok": True}


def task(person: Person, path: str) -> Ids:
    response = person.get(path)
    assert response.status_code == 200, response.text
    return Ids(response.text)


def test_a_joined_participant_without_the_key_is_a_task_on_home_and_queue_until_given(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    participant_id, person = joined_without_key(world)

    for path in ("/home", "/queue"):
        page = task(world.facilitator, path)
        assert "key-handovers" in page.attrs
        words = page.text("key-handovers")
        assert "Someone has joined and cannot send anything" in words
        assert world.reference in words
        assert "Jo" not in words  # names are sealed: never in a page the server writes
        link = world.facilitator.get(path).text
        assert f'href="/cases/{world.case_id}"' in link

    give_key(world, participant_id, person)
    for path in ("/home", "/queue"):
        assert "key-handovers" not in task(world.facilitator, path).attrs


def test_the_participant_sees_plainly_why_sending_waits_and_may_still_write(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    participant_id, person = joined_without_key(world)

    home = task(person, "/home")
    assert NOT_SET_UP in home.text("setting-up")
    assert "write-letter" in home.attrs
    compose = task(person, "/letters/new")
    assert NOT_SET_UP in compose.text("cannot-send")
    assert "send-button" not in compose.attrs
    assert person.get("/api/me/case").json()["why_not"] == NOT_SET_UP

    give_key(world, participant_id, person)
    assert "setting-up" not in task(person, "/home").attrs
    assert "send-button" in task(person, "/letters/new").attrs


def test_counts_people_per_case_oldest_first_and_only_my_cases(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    joined_without_key(world, "person_harmed")
    joined_without_key(world, "person_responsible")
    other = CaseWorld.build(portal)
    joined_without_key(other)

    page = task(world.facilitator, "/home")
    assert "2 people have joined" in page.text("key-handovers")
    assert "2 people waiting since" in page.text("key-handovers")
    assert other.reference not in page.text("key-handovers")
    # The other case's facilitator sees theirs alone; a participant never sees the task.
    assert "Someone has joined" in task(other.facilitator, "/home").text("key-handovers")
    assert "key-handovers" not in task(world.harmed, "/home").attrs


def test_nobody_waits_once_withdrawn_or_closed_as_the_state_machine_says(portal: Portal) -> None:
    withdrawing = CaseWorld.build(portal)
    _, person = joined_without_key(withdrawing)
    assert person.post_json("/api/withdraw").status_code == 200
    assert "key-handovers" not in task(withdrawing.facilitator, "/home").attrs

    closing = CaseWorld.build(portal)
    joined_without_key(closing)
    closed = closing.facilitator.post_json(
        f"/api/cases/{closing.case_id}/status", {"status": "closed", "closing_reason": "completed"}
    )
    assert closed.status_code == 200, closed.text
    assert "key-handovers" not in task(closing.facilitator, "/home").attrs

    # The same rule in the pure state machine: no GIVE_CASE_KEY in these standings.
    for condition, standing in [
        (CaseCondition.CLOSED, states.ParticipantStanding(True, False, False)),
        (CaseCondition.OPEN, states.ParticipantStanding(True, True, False)),
        (CaseCondition.OPEN, states.ParticipantStanding(True, False, True)),
        (CaseCondition.OPEN, states.ParticipantStanding(False, False, False)),
    ]:
        assert states.ParticipantAction.GIVE_CASE_KEY not in states.participant_actions(
            condition, standing
        )
    waiting = states.ParticipantStanding(joined=True, withdrawn=False, holds_case_key=False)
    for condition in (CaseCondition.OPEN, CaseCondition.PAUSED):
        assert states.ParticipantAction.GIVE_CASE_KEY in states.participant_actions(
            condition, waiting
        )
