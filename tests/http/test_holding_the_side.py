"""A representative holds the side of a participant who wants no account at all (issue 11,
item 1): what is released to that participant is offered to the representative, who chooses
whether and when to open it, as the participant would; without one (or once their access ends)
it goes on paper, printed by the case's facilitators. portal/cases/supporters.py (holder_of),
portal/messages/services.py (receiver_of), portal/messages/policy.py (receiving_side).
"""

from __future__ import annotations

from portal import protocol
from portal.accounts.models import Role
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_case_page import Ids


def held_side(portal: Portal) -> tuple[CaseWorld, str, Person, str]:
    """A case whose person responsible (Kai) has no account and is represented by someone who
    may read and write for them, their key compared in person."""
    world = CaseWorld.build(portal)
    kai = world.add_without_access("person_responsible", "Kai")
    representative, place = world.add_supporter(
        kai, kind="representative", may_read=True, may_write=True
    )
    return world, kai, representative, place


def test_what_is_released_to_them_is_offered_to_their_representative(portal: Portal) -> None:
    world, kai, representative, place = held_side(portal)
    message_id = world.write_letter(world.harmed, "For Kai.", to=kai)
    item = world.facilitator.get(f"/api/messages/{message_id}/review").json()
    recipient = item["recipient"]
    assert recipient["on_paper"] is False
    assert recipient["held_by"] == {"supporter_id": place, "kind": "representative"}
    assert recipient["account_id"] == representative.account_id
    # Nothing for them before approval; after it, a neutral notice on their home.
    assert representative.get(f"/inbox/{message_id}").status_code == 404
    assert world.approve(message_id, recipient=representative).status_code == 200
    home = Ids(representative.get("/home").text)
    assert "waiting-items" in home.attrs
    assert representative.get(f"/inbox/{message_id}").status_code == 200
    assert world.open_letter(representative, message_id) == "For Kai."
    # Offered to the representative, not put on paper: no "to print" task.
    assert f'data-to-print="{message_id}"' not in world.facilitator.get("/home").text


def test_the_words_address_the_representative_not_the_participant(portal: Portal) -> None:
    world, kai, representative, _place = held_side(portal)
    message_id = world.write_letter(world.harmed, "For Kai.", to=kai)
    assert world.approve(message_id, recipient=representative).status_code == 200
    home = Ids(representative.get("/home").text)
    waiting = home.text("waiting-items")
    assert "passed on something for the person you represent" in waiting
    assert "See the choices" in waiting
    inbox = Ids(representative.get(f"/inbox/{message_id}").text)
    assert inbox.text("inbox-item").startswith("Something for the person you represent")
    assert "something for you" not in inbox.text("inbox-item").lower()
    # The participant's own words are unchanged.
    own = world.write_letter(world.responsible, "For the person harmed.")
    assert world.approve(own).status_code == 200
    theirs = Ids(world.harmed.get(f"/inbox/{own}").text)
    assert theirs.text("inbox-item").startswith("Something for you")


def test_a_representative_whose_key_was_not_compared_is_not_released_to(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    kai = world.add_without_access("person_responsible", "Kai")
    representative, _place = world.add_supporter(kai, kind="representative", verified=False)
    message_id = world.write_letter(world.harmed, "For Kai.", to=kai)
    refused = world.approve(message_id, recipient=representative)
    assert refused.status_code == 409
    assert "compared in person" in refused.text


def test_a_supporter_does_not_hold_the_side_and_it_goes_on_paper(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    kai = world.add_without_access("person_responsible", "Kai")
    supporter, _place = world.add_supporter(kai, kind="supporter")
    message_id = world.write_letter(world.harmed, "For Kai.", to=kai)
    item = world.facilitator.get(f"/api/messages/{message_id}/review").json()
    assert item["recipient"]["on_paper"] is True
    assert item["recipient"]["held_by"] is None
    world.review(message_id)
    approved = world.facilitator.post_json(f"/api/messages/{message_id}/approve", {})
    assert approved.status_code == 200, approved.text
    assert supporter.get(f"/inbox/{message_id}").status_code == 404


def test_once_their_access_is_taken_away_it_goes_on_paper(portal: Portal) -> None:
    world, kai, representative, place = held_side(portal)
    first = world.write_letter(world.harmed, "Before.", to=kai)
    assert world.approve(first, recipient=representative).status_code == 200
    taken = world.facilitator.post_json(f"/api/cases/{world.case_id}/supporters/{place}/revoke")
    assert taken.status_code == 200, taken.text
    assert representative.get(f"/inbox/{first}").status_code == 404
    later = world.write_letter(world.harmed, "After.", to=kai)
    assert world.facilitator.get(f"/api/messages/{later}/review").json()["recipient"]["on_paper"]
    # What was offered to them is on paper again: their grant went with their access.
    assert f'data-to-print="{first}"' in world.facilitator.get("/home").text


def test_someone_who_joined_is_never_held_by_their_representative(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    representative, _place = world.add_supporter(world.responsible, kind="representative")
    message_id = world.write_letter(world.harmed, "For Sam.")
    item = world.facilitator.get(f"/api/messages/{message_id}/review").json()
    assert item["recipient"]["held_by"] is None
    assert item["recipient"]["account_id"] == world.responsible.account_id
    assert world.approve(message_id, recipient=world.responsible).status_code == 200
    assert representative.get(f"/inbox/{message_id}").status_code == 404
    other = portal.person(Role.SUPPORTER)
    assert other.get(f"/inbox/{message_id}").status_code == 404


VIDEO = protocol.Part("recording", "video/webm", "", bytes(range(256)) * 20)


def recording_for(world: CaseWorld, kai: str) -> str:
    """The person harmed sends Kai a video (both agreed to recordings): its message id."""
    world.consent(world.harmed, ["letter", "video"])
    consent = {"formats": ["letter", "video"]}
    base = f"/api/cases/{world.case_id}/participants/{kai}"
    assert world.facilitator.post_json(f"{base}/consent", consent).status_code == 200
    sealed = world.seal_media(world.harmed, "A recording for Kai.", [VIDEO])
    world.harmed.upload(sealed)
    body = {
        "recipient_participant_id": kai,
        "letter": sealed.letter_json(),
        "grant_to_case": protocol.b64encode(sealed.grant_to_case),
        "grant_to_author": protocol.b64encode(sealed.grant_to_author),
        "format": "video",
    }
    sent = world.harmed.post_json("/api/letters", body)
    assert sent.status_code == 200, sent.text
    return str(sent.json()["message_id"])


def test_a_recording_for_them_is_offered_to_their_representative(portal: Portal) -> None:
    world, kai, representative, _place = held_side(portal)
    me = world.harmed.get("/api/me/case").json()
    assert world.harmed.get("/letters/new").status_code == 200
    assert kai in {r["participant_id"] for r in me["recipients"]}
    message_id = recording_for(world, kai)
    assert world.approve(message_id, recipient=representative).status_code == 200
    # Opened by the representative, every chunk fetched from the portal as the browser does.
    _released, parts = world.open_media(representative, message_id)
    assert [part.data for part in parts if part.kind == "recording"] == [VIDEO.data]


def test_a_recording_waits_when_nobody_holds_their_side_any_more(portal: Portal) -> None:
    world, kai, _representative, place = held_side(portal)
    message_id = recording_for(world, kai)
    taken = world.facilitator.post_json(f"/api/cases/{world.case_id}/supporters/{place}/revoke")
    assert taken.status_code == 200, taken.text
    world.review(message_id)
    review = Ids(world.facilitator.get(f"/review/{message_id}").text)
    assert "cannot be printed" in review.text("approve-not-on-paper")
    assert "disabled" in review.attrs["decision-approve"]
    refused = world.facilitator.post_json(f"/api/messages/{message_id}/approve", {})
    assert refused.status_code == 409
    assert "cannot be printed" in refused.text
    # And nobody without an account, held by no one, is offered recordings at all.
    sealed = world.seal_media(world.harmed, "Another.", [VIDEO])
    world.harmed.upload(sealed)
    body = {
        "recipient_participant_id": kai,
        "letter": sealed.letter_json(),
        "grant_to_case": protocol.b64encode(sealed.grant_to_case),
        "grant_to_author": protocol.b64encode(sealed.grant_to_author),
        "format": "video",
    }
    again = world.harmed.post_json("/api/letters", body)
    assert again.status_code == 409
    assert "only a letter can reach them" in again.text
