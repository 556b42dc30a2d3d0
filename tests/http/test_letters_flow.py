"""The letter journey over HTTP with real crypto: write, return, revise, approve, opt in, read."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.content.models import ContentGrant, GrantPurpose
from tests.cases_world import CaseWorld
from tests.factories import Portal


def test_letter_reaches_recipient_only_after_approval_and_choice(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    letter = "I am sorry for what I did.\n\nI think about it every day."
    message_id = world.write_letter(world.responsible, letter)
    # Before review, the recipient does not even learn it exists.
    assert world.harmed.get(f"/inbox/{message_id}").status_code == 404
    assert world.harmed.post_json(f"/api/inbox/{message_id}/open").status_code == 404

    returned = world.return_with_feedback(message_id, "Please leave out the last line.")
    assert returned.status_code == 200, returned.text
    assert world.read_feedback(world.responsible, message_id) == "Please leave out the last line."
    revised = "I am sorry for what I did."
    world.revise_letter(world.responsible, message_id, revised)

    item, text = world.review(message_id)
    assert text == revised
    assert item["version"] == 2
    approved = world.approve(message_id, note="A short letter of apology.")
    assert approved.status_code == 200, approved.text

    assert world.read_content_note(world.harmed, message_id) == "A short letter of apology."
    assert world.open_letter(world.harmed, message_id, tell_author=True) == revised
    assert world.read_own_letter(world.responsible, message_id) == revised
    page = world.responsible.get(f"/letters/{message_id}")
    assert "Opened by the other person" in page.text


def test_no_recipient_grant_exists_before_approval(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    with portal.db() as db:
        purposes = set(db.scalars(select(ContentGrant.purpose)))
    assert GrantPurpose.RECIPIENT not in purposes


def test_recipient_gets_grant_only_by_opening(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve(message_id)
    note = world.harmed.get(f"/api/inbox/{message_id}/note").json()
    assert "grant" not in note or note["note"] is None
    assert world.harmed.post_json(f"/api/inbox/{message_id}/not-yet").status_code == 200
    assert world.open_letter(world.harmed, message_id) == "Words."
    # The author was not told: their timeline still says it waits.
    assert "Opened by the other person" not in world.responsible.get(f"/letters/{message_id}").text


def test_withdrawn_letter_never_reaches_recipient(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve(message_id)
    withdrawn = world.responsible.post_json(f"/api/letters/{message_id}/withdraw")
    assert withdrawn.status_code == 200
    assert world.harmed.post_json(f"/api/inbox/{message_id}/open").status_code == 404
    with portal.db() as db:
        assert GrantPurpose.RECIPIENT not in set(db.scalars(select(ContentGrant.purpose)))


def test_withheld_letter_never_reaches_recipient(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    assert world.withhold(message_id, "Not now.").status_code == 200
    assert world.read_feedback(world.responsible, message_id) == "Not now."
    assert world.harmed.get(f"/inbox/{message_id}").status_code == 404


def test_paused_case_moves_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve(message_id)
    second = world.write_letter(world.responsible, "More words.")
    paused = world.facilitator.post_json(f"/api/cases/{world.case_id}/status", {"status": "paused"})
    assert paused.status_code == 200
    assert world.harmed.post_json(f"/api/inbox/{message_id}/open").status_code == 409
    assert world.facilitator.post_json(f"/api/messages/{second}/claim").status_code == 409
    blocked = world.responsible.post_json("/api/letters/objects")
    assert blocked.status_code == 409
    # Stopping is always allowed.
    assert world.responsible.post_json(f"/api/letters/{second}/withdraw").status_code == 200
    world.facilitator.post_json(f"/api/cases/{world.case_id}/status", {"status": "open"})
    assert world.open_letter(world.harmed, message_id) == "Words."


def test_participant_withdrawal_stops_everything_at_once(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    waiting = world.write_letter(world.responsible, "One.")
    world.approve(waiting)
    queued = world.write_letter(world.responsible, "Two.")
    assert world.responsible.post_json("/api/withdraw").status_code == 200
    assert world.harmed.post_json(f"/api/inbox/{waiting}/open").status_code == 404
    assert world.facilitator.post_json(f"/api/messages/{queued}/claim").status_code == 409


def test_withdrawal_from_the_withdraw_page_form_goes_home(portal: Portal) -> None:
    # templates/participant/withdraw.html is an htmx form: the answer names the next page.
    world = CaseWorld.build(portal)
    person = world.responsible
    response = person.request(
        "POST",
        "/api/withdraw",
        data={},
        headers={"X-CSRF-Token": person.csrf(), "HX-Request": "true"},
    )
    assert (response.status_code, response.headers.get("HX-Redirect")) == (200, "/home")
    participants = world.facilitator.get(f"/api/cases/{world.case_id}/participants").json()
    assert any(p["withdrawn_at"] for p in participants)


def test_recipient_withdrawal_holds_what_waits_for_them(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    waiting = world.write_letter(world.responsible, "One.")
    world.approve(waiting)
    assert world.harmed.post_json("/api/withdraw").status_code == 200
    assert world.harmed.post_json(f"/api/inbox/{waiting}/open").status_code == 409
    page = world.facilitator.get(f"/api/cases/{world.case_id}/participants").json()
    assert any(p["withdrawn_at"] for p in page)


def test_facilitator_of_another_case_sees_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    outsider = other.facilitator
    for path in [
        f"/cases/{world.case_id}",
        f"/api/cases/{world.case_id}/key",
        f"/api/cases/{world.case_id}/participants",
        f"/review/{message_id}",
        f"/api/messages/{message_id}/review",
    ]:
        assert outsider.get(path).status_code == 404, path
    assert outsider.post_json(f"/api/messages/{message_id}/claim").status_code == 404
    assert message_id not in outsider.get("/queue").text


def test_two_facilitators_cannot_review_the_same_letter(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    second = portal.person(Role.FACILITATOR)
    # Only a facilitator of the case could claim; another one of this case gets a clear refusal.
    assert second.post_json(f"/api/messages/{message_id}/claim").status_code == 404


def test_facilitator_is_alerted_when_someone_withdraws(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    assert "Someone has withdrawn" not in world.facilitator.get("/home").text
    world.harmed.post_json("/api/withdraw")
    home = world.facilitator.get("/home").text
    assert "Someone has withdrawn" in home
    assert "The person harmed in case" in home


# Named ids: the made-up UUID differs in every process, and pytest-xdist's workers must collect
# the same test names.
@pytest.mark.parametrize(
    "participant_id",
    [5, "not-a-uuid", str(uuid.uuid1()), ["x"]],
    ids=["number", "not-a-uuid", "uuid1", "list"],
)
def test_odd_browser_made_ids_are_a_clear_400(portal: Portal, participant_id: object) -> None:
    world = CaseWorld.build(portal)
    response = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants",
        {"participant_id": participant_id, "side": "person_harmed", "sealed_name": "A" * 60},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "participant_id"
