"""Supporters and representatives (issue 11, item 1): a facilitator gives someone a place on a
participant's side with what the participant agreed they may do, invites them with a code made
in the facilitator's browser, and the participant or a facilitator takes the access away at any
moment; an end date ends it by itself. portal/cases/supporters.py, portal/workspace/supporters.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from portal import protocol
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.cases.models import Supporter, SupporterRequest
from portal.content.models import ContentGrant, GrantPurpose
from portal.db import utcnow
from tests.cases_world import CaseWorld, open_released
from tests.factories import Person, Portal
from tests.http.test_case_page import Ids, htmx

b64 = protocol.b64encode


def place_body(world: CaseWorld, **changes: Any) -> dict[str, Any]:
    supporter_id = str(uuid.uuid4())
    sealed = protocol.seal_case_text(
        world.case_sk, world.case_id, f"supporter-name:{supporter_id}", "Jo"
    )
    return {
        "supporter_id": supporter_id,
        "kind": "supporter",
        "may_read": True,
        "may_write": False,
        "may_receive_notices": False,
        "sealed_name": b64(sealed),
        "participant_agreed": True,
        **changes,
    }


def add_place(world: CaseWorld, person: Person, **changes: Any) -> Any:
    pid = world.participant_id(person)
    return world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants/{pid}/supporters", place_body(world, **changes)
    )


def home(person: Person) -> Ids:
    response = person.get("/home")
    assert response.status_code == 200, response.text
    return Ids(response.text)


def text_of(page: Ids, element_id: str) -> str:
    return " ".join("".join(page.texts[element_id]).split())


def test_a_supporter_joins_on_a_participants_side_and_sees_what_they_may_do(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    supporter_id = world.add_supporter_place(world.harmed, kind="representative", may_write=True)
    code = world.invite_supporter(supporter_id, world.harmed)

    # What the joiner's browser checks names the case and whose side (the MAC covers them).
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code))
    started = portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert started.json()["role"] == "supporter"
    assert started.json()["case_id"] == world.case_id
    assert started.json()["participant_id"] == world.participant_id(world.harmed)

    supporter = portal.visitor().join_invited(code)
    page = home(supporter)
    summary = text_of(page, "home-summary")
    assert "representative for the person harmed" in summary
    html = supporter.get("/home").text
    assert "Read what is passed on to them; Write and send on their behalf" in html
    assert "Has access since" in html

    case_html = world.facilitator.get(f"/cases/{world.case_id}").text
    card = Ids(case_html)
    assert f"supporter-{supporter_id}" in card.attrs
    assert 'data-sealed="supporter-name"' in case_html
    assert "Has access since" in text_of(card, f"supporter-{supporter_id}")

    # The participant sees who has access on their side and since when (no name: sealed).
    mine = world.harmed.get("/home").text
    assert "People who support you" in mine
    assert "Your representative" in mine
    # The other side sees nothing of it.
    assert "Your representative" not in world.responsible.get("/home").text

    with portal.db() as db:
        tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == supporter_id)))
    assert {"supporter:added", "supporter:joined"} <= tags
    audit = world.facilitator.get(f"/cases/{world.case_id}/audit").text
    assert (
        "Representative (person harmed&#39;s side)" in audit
        or "Representative (person harmed's side)" in audit
    )
    assert supporter.name not in audit  # a sign-in name they chose may name them


def test_a_place_needs_the_participants_agreement_something_to_do_and_a_future_end(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    refusals: dict[str, dict[str, Any]] = {
        "participant_agreed": {"participant_agreed": False},
        "may_read": {"may_read": False},
        "ends_on": {"ends_on": (utcnow() - timedelta(days=2)).date().isoformat()},
        "kind": {"kind": "friend"},
    }
    for field, changes in refusals.items():
        refused = add_place(world, world.harmed, **changes)
        assert refused.status_code == 400, (field, refused.text)
        assert refused.json()["field"] == field
    for bad_date in ("31/12/2030", "2030-02-30", 20301231):
        refused = add_place(world, world.harmed, ends_on=bad_date)
        assert refused.status_code == 400
        assert refused.json()["field"] == "ends_on"
    assert add_place(world, world.harmed, sealed_name="not base64!").status_code == 400
    with portal.db() as db:
        assert db.scalars(select(Supporter)).all() == []  # nothing half-written

    # An htmx form's refusal names the input for the page to put the sentence under.
    pid = world.participant_id(world.harmed)
    answer = htmx(
        world.facilitator,
        f"/api/cases/{world.case_id}/participants/{pid}/supporters",
        sealed=True,
        **place_body(world, participant_agreed=False),
    )
    assert answer.status_code == 400
    assert answer.headers["X-Field"] == "participant_agreed"


def test_the_form_answer_is_the_participants_card_with_the_new_place(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    pid = world.participant_id(world.harmed)
    body = place_body(world, may_receive_notices=True)
    answer = htmx(
        world.facilitator,
        f"/api/cases/{world.case_id}/participants/{pid}/supporters",
        sealed=True,
        **body,
    )
    assert answer.status_code == 200, answer.text
    card = Ids(answer.text)
    assert f"participant-{pid}" in card.attrs
    assert f"invite-{body['supporter_id']}" in card.attrs  # its invitation can be made now
    assert "Not joined yet" in text_of(card, f"supporter-{body['supporter_id']}")
    assert "Be told when something is waiting" in answer.text


def test_nobody_can_add_a_place_for_someone_who_withdrew_or_in_a_closed_case(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    assert world.responsible.post_json("/api/withdraw").status_code == 200
    assert add_place(world, world.responsible).status_code == 409
    closed = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/status", {"status": "closed", "closing_reason": "completed"}
    )
    assert closed.status_code == 200
    assert add_place(world, world.harmed).status_code == 409


def test_the_participant_takes_access_away_and_it_stops_at_once(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    supporter, supporter_id = world.add_supporter(world.harmed)
    # The other side cannot take it away, nor learn that it exists.
    assert (
        world.responsible.post_json(f"/api/my/supporters/{supporter_id}/revoke").status_code == 404
    )
    taken = world.harmed.post_json(f"/api/my/supporters/{supporter_id}/revoke")
    assert taken.status_code == 200, taken.text
    assert "Access taken away on" in supporter.get("/home").text
    again = world.harmed.post_json(f"/api/my/supporters/{supporter_id}/revoke")
    assert again.status_code == 409
    assert "Access taken away on" in world.harmed.get("/home").text
    with portal.db() as db:
        tags = list(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == supporter_id)))
    assert tags.count("supporter:revoked") == 1


def test_taking_access_away_deletes_every_grant_made_to_them_and_unused_invitations(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    supporter, supporter_id = world.add_supporter(world.harmed)
    world.write_letter(world.responsible, "Sorry.")
    with portal.db() as db:
        # A grant made to them (as a release will make one): it must go with their access.
        case_grant = db.scalars(
            select(ContentGrant).where(ContentGrant.purpose == GrantPurpose.CASE)
        ).first()
        assert case_grant is not None
        db.add(
            ContentGrant(
                object_id=case_grant.object_id,
                version=case_grant.version,
                purpose=GrantPurpose.RECIPIENT,
                sender_id=world.facilitator.account_id,
                recipient_account_id=supporter.account_id,
                grant=b"x" * 120,
            )
        )
        db.commit()
    # A second place, invited but not joined: its code must stop working too.
    waiting_id = world.add_supporter_place(world.harmed, "Kim")
    code = world.invite_supporter(waiting_id, world.harmed)
    for place in (supporter_id, waiting_id):
        taken = world.facilitator.post_json(f"/api/cases/{world.case_id}/supporters/{place}/revoke")
        assert taken.status_code == 200, taken.text
    with portal.db() as db:
        left = db.scalars(
            select(ContentGrant).where(ContentGrant.recipient_account_id == supporter.account_id)
        ).all()
    assert left == []
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code))
    refused = portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert refused.status_code == 410


def test_access_ends_by_itself_on_its_end_date(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    supporter, supporter_id = world.add_supporter(world.harmed, ends_on=tomorrow)
    assert "until" in supporter.get("/home").text
    unjoined = world.add_supporter_place(world.harmed, "Kim", ends_on=tomorrow)
    code = world.invite_supporter(unjoined, world.harmed)
    with portal.db() as db:
        db.execute(update(Supporter).values(ends_at=utcnow() - timedelta(minutes=1)))
        db.commit()
    assert "Access ended on" in supporter.get("/home").text
    # Nothing more can be done with an ended place: no revoking, no joining, no new invitation.
    ended = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/supporters/{supporter_id}/revoke"
    )
    assert ended.status_code == 409
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code))
    started = portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert started.status_code == 200  # the code itself is fine...
    with pytest.raises(AssertionError, match="can no longer be used"):
        portal.visitor().join_invited(code)  # ...but the place it was for has ended
    refused = world.facilitator.post_json(
        "/api/invitations/prepare", {"role": "supporter", "supporter_id": unjoined}
    )
    assert refused.status_code == 409


def test_a_supporters_security_number_is_recorded_as_compared_in_person(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    supporter, supporter_id = world.add_supporter(world.harmed)
    url = f"/api/cases/{world.case_id}/supporters/{supporter_id}/verified"
    wrong = world.facilitator.post_json(url, {"public_key": b64(world.harmed.public_key)})
    assert wrong.status_code == 409
    ok = world.facilitator.post_json(url, {"public_key": b64(supporter.public_key)})
    assert ok.status_code == 200, ok.text
    with portal.db() as db:
        place = db.get(Supporter, supporter_id)
        assert place is not None
        assert place.verified_public_key == supporter.public_key


def test_supporter_invitations_are_made_only_for_a_place_in_ones_own_case(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    supporter_id = world.add_supporter_place(world.harmed)
    prepare = "/api/invitations/prepare"
    # Without a place: said where to do it instead.
    bare = world.facilitator.post_json(prepare, {"role": "supporter"})
    assert bare.status_code == 400
    assert bare.json()["field"] == "supporter_id"
    # Another case's facilitator: as if it did not exist.
    for url, body in [
        (prepare, {"role": "supporter", "supporter_id": supporter_id}),
        (f"/api/cases/{other.case_id}/supporters/{supporter_id}/revoke", {}),
        (f"/api/cases/{world.case_id}/supporters/{supporter_id}/revoke", {}),
    ]:
        assert other.facilitator.post_json(url, body).status_code == 404, url
    # A participant's invitation names no supporter, and a supporter's no participant.
    mixed = world.facilitator.post_json(
        prepare,
        {
            "role": "participant",
            "participant_id": world.participant_id(world.harmed),
            "supporter_id": supporter_id,
        },
    )
    assert mixed.status_code in (400, 409)
    # A supporter's waiting invitation is not the participant's (their card says nothing of it).
    world.invite_supporter(supporter_id, world.harmed)
    participants = world.facilitator.get(f"/api/cases/{world.case_id}/participants").json()
    assert not any(p["invitation_pending"] for p in participants)


def test_people_in_a_case_are_not_offered_on_the_invitations_page(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    page = facilitator.get("/invitations").text
    assert 'value="supporter"' not in page
    assert 'value="participant"' not in page


# -- reading for the participant ----------------------------------------------------------------


def test_a_supporter_reads_what_the_participant_chose_to_open_and_nothing_before(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    # The review answer names who may read for the recipient, with their current key.
    item, _text = world.review(message_id)
    assert [r["supporter_id"] for r in item["readers"]] == [reader_id]
    assert item["readers"][0]["public_key"] == b64(reader.public_key)
    assert world.approve(message_id, readers={reader_id: reader}).status_code == 200

    open_url = f"/api/supporting/{message_id}/open"
    # Approved but not yet opened by the person harmed: the supporter learns nothing.
    assert reader.get(f"/supporting/{message_id}").status_code == 404
    assert reader.post_json(open_url).status_code == 404
    assert message_id not in reader.get("/home").text

    assert world.open_letter(world.harmed, message_id) == "I am sorry."
    assert f"/supporting/{message_id}" in reader.get("/home").text
    assert reader.get(f"/supporting/{message_id}").status_code == 200
    released = reader.post_json(open_url)
    assert released.status_code == 200, released.text
    assert open_released(reader, released.json()) == "I am sorry."
    with portal.db() as db:
        read = db.scalars(
            select(AuditEvent).where(
                AuditEvent.subject_id == message_id,
                AuditEvent.tag == "message:read-by-supporter",
            )
        ).all()
    assert [event.actor_id for event in read] == [reader.account_id]


def test_nobody_else_reads_for_the_participant(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed)
    no_reading, _ = world.add_supporter(
        world.harmed, display_name="Kim", may_read=False, may_write=True
    )
    other_side, _ = world.add_supporter(world.responsible, display_name="Lee")
    message_id = world.write_letter(world.responsible, "I am sorry.")
    # A grant for a supporter who may not read for the recipient is refused, and nothing moves.
    with portal.db() as db:
        others = db.scalars(
            select(Supporter.id).where(Supporter.account_id != reader.account_id)
        ).all()
    refused = world.approve(message_id, readers={others[0]: no_reading})
    assert refused.status_code == 409
    assert world.approve(message_id, readers={reader_id: reader}).status_code == 200
    world.open_letter(world.harmed, message_id)
    for person in (no_reading, other_side, world.responsible):
        assert person.post_json(f"/api/supporting/{message_id}/open").status_code in (403, 404)
    # The grant goes with the access: taken away, nothing more opens, even what was read.
    assert reader.post_json(f"/api/supporting/{message_id}/open").status_code == 200
    world.harmed.post_json(f"/api/my/supporters/{reader_id}/revoke")
    assert reader.post_json(f"/api/supporting/{message_id}/open").status_code == 404
    assert reader.get(f"/supporting/{message_id}").status_code == 404


def test_a_supporter_without_a_grant_reads_nothing_even_when_allowed(portal: Portal) -> None:
    """A facilitator who has not compared the supporter's key gives them no grant: the page
    then opens nothing (the server never makes or holds a key for them)."""
    world = CaseWorld.build(portal)
    reader, _reader_id = world.add_supporter(world.harmed)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    assert world.approve(message_id).status_code == 200
    world.open_letter(world.harmed, message_id)
    assert reader.post_json(f"/api/supporting/{message_id}/open").status_code == 404


# ----------------------------------------------------------- a participant asks for a supporter


def ask(person: Person, **changes: Any) -> Any:
    body = {"kind": "representative", "may_read": True, "may_write": True, **changes}
    return person.post_json("/api/my/supporter-requests", body)


def test_a_participant_asks_and_the_facilitator_sees_it_until_someone_is_invited(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    assert "request-supporter" in home(world.harmed).attrs
    asked = ask(world.harmed)
    assert asked.status_code == 200, asked.text
    mine = home(world.harmed)
    assert "request-supporter" not in mine.attrs
    assert "representative who may: read what is passed on to them; write" in text_of(
        mine, "supporter-request"
    )
    # Asked once: again is refused, in words; nothing is asked with nothing allowed.
    again = ask(world.harmed)
    assert again.status_code == 409
    assert "already asked" in again.text
    assert ask(world.responsible, may_read=False, may_write=False).status_code == 400

    facilitator_home = home(world.facilitator)
    assert "asked on" in text_of(facilitator_home, "supporter-requests")
    pid = world.participant_id(world.harmed)
    card = Ids(world.facilitator.get(f"/cases/{world.case_id}").text)
    assert f"supporter-request-{pid}" in card.attrs
    assert "checked" in card.attrs[f"add-supporter-{pid}-representative"]
    assert "checked" in card.attrs[f"add-supporter-{pid}-write"]

    # Inviting someone for them closes it, for both.
    assert add_place(world, world.harmed, kind="representative").status_code == 200
    assert "supporter-requests" not in home(world.facilitator).attrs
    assert "supporter-request" not in home(world.harmed).attrs
    with portal.db() as db:
        tags = set(db.scalars(select(AuditEvent.tag)))
    assert {"supporter:requested", "supporter:request-closed"} <= tags


def test_a_request_is_cancelled_by_the_participant_or_closed_by_the_facilitator(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    assert ask(world.harmed).status_code == 200
    with portal.db() as db:
        request_id = db.scalars(select(SupporterRequest.id)).one()
    # Nobody else cancels it: another participant, or a facilitator of another case.
    assert (
        world.responsible.post_json(f"/api/my/supporter-requests/{request_id}/cancel").status_code
        == 404
    )
    other = CaseWorld.build(portal)
    close = f"/api/cases/{world.case_id}/supporter-requests/{request_id}/close"
    assert other.facilitator.post_json(close).status_code == 404
    elsewhere = f"/api/cases/{other.case_id}/supporter-requests/{request_id}/close"
    assert other.facilitator.post_json(elsewhere).status_code == 404
    cancelled = world.harmed.post_json(f"/api/my/supporter-requests/{request_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    # Closed once only.
    assert world.facilitator.post_json(close).status_code == 409
    assert ask(world.harmed).status_code == 200
    with portal.db() as db:
        second = db.scalars(
            select(SupporterRequest.id).where(SupporterRequest.closed_at.is_(None))
        ).one()
    closed = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/supporter-requests/{second}/close"
    )
    assert closed.status_code == 200, closed.text
    assert "supporter-requests" not in home(world.facilitator).attrs


def test_a_participant_who_withdrew_asks_for_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    assert world.harmed.post_json("/api/withdraw").status_code == 200
    assert "request-supporter" not in home(world.harmed).attrs
    refused = ask(world.harmed)
    assert refused.status_code == 409
