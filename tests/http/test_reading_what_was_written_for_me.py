"""A participant reads what their supporter or representative wrote on their behalf (issue 11,
item 1: "the participant sees it"), before it is passed on, so they can object and stop it.

It was sealed in the writer's browser to the case key and to the writer; the writer's browser
never compared the participant's key, so a facilitator's browser (which holds the case key and
compared that key in person) grants it to them, as it gives access again after a key change:
the same listing and the same endpoint (portal/messages/regrants.py, regrant_views.py), the
task on the facilitator's home and queue, and the letter page (author_views.letter_page,
api_my_letter). Each revision and the facilitator's feedback are granted too; nothing is granted
once it was stopped for good, nor to a key that changed or was never compared, nor to anyone
else (a supporter of the side reads only what was released to the participant).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal import protocol
from portal.audit.models import AuditEvent
from portal.content.models import ContentGrant, GrantPurpose
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_case_page import Ids
from tests.http.test_keys_that_change import regrant_all, rekey
from tests.http.test_supporters import home, text_of

b64 = protocol.b64encode


def page(person: Person, url: str) -> Ids:
    response = person.get(url)
    assert response.status_code == 200, response.text
    return Ids(response.text)


def listing(world: CaseWorld) -> list[dict[str, Any]]:
    answer = world.facilitator.get(f"/api/cases/{world.case_id}/regrants")
    assert answer.status_code == 200, answer.text
    people: list[dict[str, Any]] = answer.json()["people"]
    return people


def owed_items(world: CaseWorld, person: Person) -> list[tuple[str, str]]:
    """(what, message id) owed to ``person``, as the case page's browser is told."""
    return [
        (item["what"], item["message_id"])
        for owed in listing(world)
        if owed["account_id"] == person.account_id
        for item in owed["items"]
    ]


def read_written_for_me(world: CaseWorld, participant: Person, message_id: str) -> str:
    """What the letter page's browser does: open the facilitator's grant (checked against the
    facilitator's key the answer names: client/letters.js openWrittenForMe)."""
    answer = participant.get(f"/api/letters/{message_id}")
    assert answer.status_code == 200, answer.text
    letter = answer.json()
    assert letter["written_for_you"] is True
    assert letter["sender_account_id"] == world.facilitator.account_id
    assert protocol.b64decode(letter["sender_public_key"]) == world.facilitator.public_key
    return world.open_note(participant, letter)


def written_for_responsible(world: CaseWorld, text: str = "I am sorry.") -> tuple[Person, str]:
    writer, _supporter_id = world.add_writer(world.responsible, kind="representative")
    return writer, world.write_letter(writer, text)


def test_the_participant_reads_it_before_release_once_a_facilitators_browser_grants_it(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    _writer, message_id = written_for_responsible(world, "I am sorry, written with Sam.")

    # Before the grant: the page says they will be able to read it, and the API says why not.
    waiting = page(world.responsible, f"/letters/{message_id}")
    assert text_of(waiting, "letter-on-behalf") == "Written for you by your representative."
    assert "written-for-you-waiting" in waiting.attrs
    assert "show-letter" not in waiting.attrs
    refused = world.responsible.get(f"/api/letters/{message_id}")
    assert refused.status_code == 409
    assert "next opens your case" in refused.text

    # The facilitator is asked, on their home and above the queue, to open the case.
    for url in ("/home", "/queue"):
        task = page(world.facilitator, url)
        assert "Let the person responsible read what was written for them" in text_of(
            task, "written-for"
        )
    assert owed_items(world, world.responsible) == [("written_for", message_id)]

    regrant_all(world, expected=1)
    assert listing(world) == []
    assert "written-for" not in page(world.facilitator, "/home").attrs
    assert read_written_for_me(world, world.responsible, message_id) == (
        "I am sorry, written with Sam."
    )
    readable = page(world.responsible, f"/letters/{message_id}")
    assert "show-letter" in readable.attrs
    assert readable.attrs["my-letter"]["data-sealed"] == "written-for-me"
    assert "can stop it below" in text_of(readable, "written-for-you")
    assert "withdraw-letter" in readable.attrs
    assert "make-changes" not in readable.attrs
    # Still before release: the person harmed knows nothing of it.
    assert world.harmed.get(f"/inbox/{message_id}").status_code == 404

    with portal.db() as db:
        grant = db.scalars(
            select(ContentGrant).where(
                ContentGrant.recipient_account_id == world.responsible.account_id
            )
        ).one()
        assert grant.purpose is GrantPurpose.AUTHOR
        assert grant.sender_id == world.facilitator.account_id
        tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == message_id)))
    assert "message:shown-to-side" in tags
    assert "message:regranted" not in tags

    # Released: the person harmed reads it labelled; the participant can still read it.
    assert world.approve(message_id).status_code == 200
    inbox = page(world.harmed, f"/inbox/{message_id}")
    assert text_of(inbox, "item-written-by") == (
        "Written on behalf of the person responsible by their representative"
    )
    assert world.open_letter(world.harmed, message_id) == "I am sorry, written with Sam."
    assert read_written_for_me(world, world.responsible, message_id) == (
        "I am sorry, written with Sam."
    )


def test_feedback_and_each_revision_are_granted_too(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    writer, message_id = written_for_responsible(world, "First go.")
    regrant_all(world, expected=1)
    returned = world.return_with_feedback(message_id, "Perhaps gentler.", writer)
    assert returned.status_code == 200, returned.text
    assert owed_items(world, world.responsible) == [("written_for_feedback", message_id)]
    regrant_all(world, expected=1)
    letter = world.responsible.get(f"/api/letters/{message_id}").json()
    assert world.open_note(world.responsible, letter["feedback"]) == "Perhaps gentler."
    returned_page = page(world.responsible, f"/letters/{message_id}")
    assert "to your representative" in text_of(returned_page, "feedback-section")

    world.revise_letter(writer, message_id, "Second go.")
    # The new version waits for a grant: the old one no longer shows as the letter.
    assert world.responsible.get(f"/api/letters/{message_id}").status_code == 409
    assert owed_items(world, world.responsible) == [("written_for", message_id)]
    regrant_all(world, expected=1)
    assert read_written_for_me(world, world.responsible, message_id) == "Second go."


def test_nothing_is_granted_once_it_was_stopped(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    _writer, message_id = written_for_responsible(world)
    grantable = listing(world)
    assert len(grantable) == 1
    stopped = world.responsible.post_json(f"/api/letters/{message_id}/withdraw")
    assert stopped.status_code == 200, stopped.text
    assert listing(world) == []
    assert "written-for" not in page(world.facilitator, "/home").attrs
    shown = page(world.responsible, f"/letters/{message_id}")
    assert "written-for-you-stopped" in shown.attrs
    # A grant made from the listing before it was stopped is refused, and nothing is stored.
    person = grantable[0]
    item = person["items"][0]
    content_key, digest = protocol.open_content_grant(
        world.case_sk,
        protocol.b64decode(item["sender_public_key"]),
        item["object_id"],
        item["version"],
        protocol.b64decode(item["grant"]),
    )
    grant = protocol.make_content_grant(
        world.facilitator.secret_key,
        world.responsible.public_key,
        item["object_id"],
        item["version"],
        content_key,
        digest,
    )
    body = {
        "account_id": person["account_id"],
        "public_key": person["public_key"],
        "grants": [{"object_id": item["object_id"], "version": 1, "grant": b64(grant)}],
    }
    refused = world.facilitator.post_json(f"/api/cases/{world.case_id}/regrants", body)
    assert refused.status_code == 409
    with portal.db() as db:
        assert not db.scalars(
            select(ContentGrant).where(
                ContentGrant.recipient_account_id == world.responsible.account_id
            )
        ).all()

    # Withheld by the facilitator: no grant either.
    _writer2, withheld = written_for_responsible(world, "Another.")
    assert world.withhold(withheld, "Not now.").status_code == 200
    assert listing(world) == []


def test_only_a_key_compared_in_person_and_only_the_participant(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    # Never compared: nothing is owed, and no task asks for it.
    reader, _reader_id = world.add_supporter(world.responsible)  # may read what is released
    _writer, message_id = written_for_responsible(world)
    assert listing(world) == []
    assert "written-for" not in page(world.facilitator, "/home").attrs
    world.verify(world.responsible)
    assert owed_items(world, world.responsible) == [("written_for", message_id)]
    # A supporter of the side is never offered it: only what is released to the participant.
    assert owed_items(world, reader) == []
    regrant_all(world, expected=1)
    assert reader.get(f"/api/letters/{message_id}").status_code == 404
    assert reader.get(f"/supporting/{message_id}").status_code == 404

    # A new key (lost password and recovery code): its grants go, and nothing is owed to the
    # new key until it is compared in person again.
    again = rekey(world, world.responsible)
    assert listing(world) == []
    assert again.get(f"/api/letters/{message_id}").status_code == 409
    world.verify(again)
    assert owed_items(world, again) == [("written_for", message_id)]


def test_only_a_facilitator_of_the_case_grants_it(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    writer, _message_id = written_for_responsible(world)
    elsewhere = CaseWorld.build(portal)
    url = f"/api/cases/{world.case_id}/regrants"
    assert elsewhere.facilitator.get(url).status_code == 404
    body = {
        "account_id": world.responsible.account_id,
        "public_key": b64(world.responsible.public_key),
        "grants": [{"object_id": writer.account_id, "version": 1, "grant": b64(bytes(100))}],
    }
    for someone in (elsewhere.facilitator, world.responsible, writer, world.harmed):
        assert someone.post_json(url, body).status_code in {403, 404}
    # The writer's own page is unchanged: their words, their grant.
    assert "show-letter" in page(writer, f"/letters/{_message_id}").attrs


def test_a_recording_written_for_them_plays_for_them_once_granted(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    world.consent(world.responsible, ["letter", "video"])
    world.consent(world.harmed, ["letter", "video"])
    writer, _supporter_id = world.add_writer(world.responsible)
    video = protocol.Part("recording", "video/webm", "", b"\x1a" * 5000)
    message_id = world.write_media_message(writer, "A recording.", [video])
    object_id = writer.get(f"/api/letters/{message_id}").json()["object_id"]
    chunk_url = f"/api/content/{object_id}/1/1/0"
    assert writer.get(chunk_url).status_code == 200
    assert world.responsible.get(chunk_url).status_code == 404
    regrant_all(world, expected=1)
    assert world.responsible.get(chunk_url).status_code == 200
    assert world.harmed.get(chunk_url).status_code == 404


def test_the_home_task_names_each_side_once(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    writer, _first = written_for_responsible(world, "One.")
    world.write_letter(writer, "Two.")
    task = home(world.facilitator)
    items = [key for key in task.attrs if key == "written-for"]
    assert items == ["written-for"]
    text = text_of(task, "written-for")
    assert text.count("Let the person responsible read") == 1
    assert world.reference in text
