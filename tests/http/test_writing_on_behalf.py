"""Writing on a participant's behalf (issue 11, item 1): a supporter or representative the
participant agreed may write gets the case public key from a facilitator's browser, writes and
sends in the participant's name, and every page says who wrote it: the review page, the
recipient's, the participant's own list and letter page. The participant may stop it; taking the
writer's access away stops their writing at once. portal/messages/policy.py (Writer),
portal/messages/author_views.py, portal/cases/supporters.py (give_case_public_key).
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal import protocol
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.cases.models import Supporter
from portal.content.models import ContentGrant
from portal.messages.models import Message
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_case_page import Ids
from tests.http.test_supporters import home, text_of

b64 = protocol.b64encode


def page(person: Person, url: str) -> Ids:
    response = person.get(url)
    assert response.status_code == 200, response.text
    return Ids(response.text)


def test_a_representative_writes_for_the_participant_and_every_page_says_so(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    writer, supporter_id = world.add_writer(world.responsible, kind="representative")
    me = writer.get("/api/me/case").json()
    assert me["can_write"] is True
    assert me["side"] == "person_responsible"
    assert "writing on behalf of the person responsible" in " ".join(
        page(writer, "/letters/new").texts["compose-on-behalf"]
    )

    message_id = world.write_letter(writer, "I am sorry, written with Sam.")
    with portal.db() as db:
        message = db.get(Message, message_id)
        assert message is not None
        assert message.written_by_supporter_id == supporter_id
        assert message.author_participant_id == world.participant_id(world.responsible)
    # The writer reads it again, and sees that they wrote it for the participant.
    assert world.read_own_letter(writer, message_id) == "I am sorry, written with Sam."
    mine = page(writer, f"/letters/{message_id}")
    assert text_of(mine, "letter-on-behalf") == "You wrote this for the person responsible."
    assert "show-letter" in mine.attrs
    written = home(writer)
    assert "written-items" in written.attrs
    assert "write-letter" in written.attrs

    # The facilitator sees who wrote it, and the writer's key to check.
    review = page(world.facilitator, f"/review/{message_id}")
    assert text_of(review, "review-on-behalf") == (
        "Written by the person responsible's representative on their behalf"
    )
    item = world.facilitator.get(f"/api/messages/{message_id}/review").json()
    assert item["written_by"]["supporter_id"] == supporter_id
    assert item["written_by"]["account_id"] == writer.account_id == item["author_account_id"]

    # The participant sees it in their list and on its page, labelled, but cannot change it;
    # they read it once a facilitator's browser grants it to them
    # (tests/http/test_reading_what_was_written_for_me.py).
    theirs = home(world.responsible)
    assert "Written for you by your representative" in " ".join(theirs.texts["my-letters"])
    letter = page(world.responsible, f"/letters/{message_id}")
    assert text_of(letter, "letter-on-behalf") == "Written for you by your representative."
    assert "written-for-you-waiting" in letter.attrs
    assert "show-letter" not in letter.attrs
    assert "make-changes" not in letter.attrs
    assert "withdraw-letter" in letter.attrs
    assert world.responsible.get(f"/api/letters/{message_id}").status_code == 409
    assert world.responsible.get(f"/letters/{message_id}/revise").status_code == 404

    # The recipient is told before opening who wrote it, and reads it.
    assert world.approve(message_id).status_code == 200
    inbox = page(world.harmed, f"/inbox/{message_id}")
    assert text_of(inbox, "item-written-by") == (
        "Written on behalf of the person responsible by their representative"
    )
    assert world.open_letter(world.harmed, message_id) == "I am sorry, written with Sam."

    with portal.db() as db:
        actors = set(
            db.scalars(
                select(AuditEvent.actor_id).where(
                    AuditEvent.subject_id == message_id, AuditEvent.tag == "message:submitted"
                )
            )
        )
    assert actors == {writer.account_id}


def test_the_writer_revises_what_was_returned_and_the_participant_can_stop_it(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    writer, _supporter_id = world.add_writer(world.responsible)
    message_id = world.write_letter(writer, "First go.")
    assert world.return_with_feedback(message_id, "Perhaps gentler.", writer).status_code == 200
    assert world.read_feedback(writer, message_id) == "Perhaps gentler."
    world.revise_letter(writer, message_id, "Second go.")
    assert world.read_own_letter(writer, message_id) == "Second go."
    # The participant stops it: it is their name it goes in.
    stopped = world.responsible.post_json(f"/api/letters/{message_id}/withdraw")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["state"] == "withdrawn"
    # The participant's own letters are theirs alone: the writer cannot reach them.
    own = world.write_letter(world.responsible, "My own words.")
    assert writer.get(f"/letters/{own}").status_code == 404
    assert writer.get(f"/api/letters/{own}").status_code == 404
    assert writer.post_json(f"/api/letters/{own}/withdraw").status_code == 404


def test_a_recording_goes_through_the_same_uploads(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.consent(world.responsible, ["letter", "video"])
    world.consent(world.harmed, ["letter", "video"])
    writer, supporter_id = world.add_writer(world.responsible)
    video = protocol.Part("recording", "video/webm", "", b"\x1a" * 5000)
    message_id = world.write_media_message(writer, "A recording.", [video])
    with portal.db() as db:
        message = db.get(Message, message_id)
        assert message is not None
        assert message.written_by_supporter_id == supporter_id


def test_sending_waits_for_the_case_key_and_the_facilitator_sees_the_task(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    writer, supporter_id = world.add_supporter(world.responsible, may_write=True)
    me = writer.get("/api/me/case").json()
    assert me["can_write"] is False
    assert me["case_public_grant"] is None
    assert "not finished setting up your place" in me["why_not"]
    facilitator_home = page(world.facilitator, "/home")
    assert "key-handovers" in facilitator_home.attrs
    case_page = world.facilitator.get(f"/cases/{world.case_id}").text
    card = Ids(case_page).attrs[f"supporter-{supporter_id}"]
    assert "data-needs-case-key" in card
    assert card["data-public-key"] == b64(writer.public_key)
    object_id = writer.post_json("/api/letters/objects")
    assert object_id.status_code == 409

    grant = protocol.make_case_public_grant(
        world.facilitator.secret_key, writer.public_key, world.case_id, world.case_pk
    )
    url = f"/api/cases/{world.case_id}/supporters/{supporter_id}/case-key"
    assert world.facilitator.post_json(url, {"grant": b64(grant)}).status_code == 200
    assert "key-handovers" not in page(world.facilitator, "/home").attrs
    assert world.case_key_as_seen_by(writer) == world.case_pk
    # Given once: a second time is refused, in words.
    again = world.facilitator.post_json(url, {"grant": b64(grant)})
    assert again.status_code == 409
    assert "already holds" in again.text


def test_the_case_key_goes_only_to_one_who_may_write(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed)  # may read only
    url = f"/api/cases/{world.case_id}/supporters/{reader_id}/case-key"
    grant = protocol.make_case_public_grant(
        world.facilitator.secret_key, reader.public_key, world.case_id, world.case_pk
    )
    refused = world.facilitator.post_json(url, {"grant": b64(grant)})
    assert refused.status_code == 409
    assert "may not write" in refused.text
    not_joined = world.add_supporter_place(world.harmed, may_write=True)
    url = f"/api/cases/{world.case_id}/supporters/{not_joined}/case-key"
    assert world.facilitator.post_json(url, {"grant": b64(grant)}).status_code == 409
    assert world.facilitator.post_json(url, {"grant": "AAAA"}).status_code == 400
    # A reader writes nothing.
    assert reader.get("/letters/new").status_code == 404
    assert reader.get("/api/me/case").status_code == 404
    assert reader.post_json("/api/letters/objects").status_code == 404
    with portal.db() as db:
        held = db.get(Supporter, reader_id)
        assert held is not None
        assert held.case_public_grant is None


def test_taking_access_away_stops_writing_at_once_and_keeps_the_label(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    writer, supporter_id = world.add_writer(world.responsible)
    sent = world.write_letter(writer, "Before.")
    object_id = writer.post_json("/api/letters/objects").json()["object_id"]
    taken = world.responsible.post_json(f"/api/my/supporters/{supporter_id}/revoke")
    assert taken.status_code == 200, taken.text
    assert writer.get("/letters/new").status_code == 404
    assert writer.get("/api/me/case").status_code == 404
    assert writer.start_upload(object_id, 1, 4096).status_code == 404
    assert writer.get(f"/letters/{sent}").status_code == 404
    # What they sent stays labelled for everyone who still sees it.
    review = page(world.facilitator, f"/review/{sent}")
    assert "review-on-behalf" in review.attrs
    assert "Written for you by your supporter" in " ".join(
        home(world.responsible).texts["my-letters"]
    )


def test_an_access_end_date_in_the_past_stops_writing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    writer, supporter_id = world.add_writer(world.responsible)
    with portal.db() as db:
        db.execute(
            update(Supporter)
            .where(Supporter.id == supporter_id)
            .values(ends_at=Supporter.created_at)
        )
        db.commit()
    assert writer.get("/letters/new").status_code == 404
    assert "key-handovers" not in page(world.facilitator, "/home").attrs


def test_returning_what_a_writer_sent_after_their_access_ended_grants_them_nothing(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    writer, supporter_id = world.add_writer(world.responsible)
    message_id = world.write_letter(writer, "Before.")
    taken = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/supporters/{supporter_id}/revoke"
    )
    assert taken.status_code == 200, taken.text
    returned = world.return_with_feedback(message_id, "Let us talk.", writer)
    assert returned.status_code == 200, returned.text
    with portal.db() as db:
        grants = db.scalars(
            select(ContentGrant).where(ContentGrant.recipient_account_id == writer.account_id)
        ).all()
    assert grants == []


def test_after_a_facilitator_leaves_a_writer_waits_for_the_new_case_key(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    writer, supporter_id = world.add_writer(world.responsible)
    assert world.remove_facilitator(colleague).status_code == 200
    # Nothing is sealed to the old key, and it is not handed over again, until the next epoch.
    assert writer.post_json("/api/letters/objects").status_code == 409
    url = f"/api/cases/{world.case_id}/supporters/{supporter_id}/case-key"
    with portal.db() as db:
        db.execute(
            update(Supporter).where(Supporter.id == supporter_id).values(case_public_grant=None)
        )
        db.commit()
    old = protocol.make_case_public_grant(
        world.facilitator.secret_key, writer.public_key, world.case_id, world.case_pk
    )
    assert world.facilitator.post_json(url, {"grant": b64(old)}).status_code == 409
    world.start_next_epoch(world.facilitator, [world.facilitator])
    # The writer holds no grant any more: the hand-over task gives them the new public key.
    assert writer.get("/api/me/case").json()["case_public_grant"] is None
    assert "key-handovers" in page(world.facilitator, "/home").attrs
    new = protocol.make_case_public_grant(
        world.facilitator.secret_key, writer.public_key, world.case_id, world.case_pk
    )
    assert world.facilitator.post_json(url, {"grant": b64(new)}).status_code == 200
    message_id = world.write_letter(writer, "After the change.")
    assert world.review(message_id)[1] == "After the change."
