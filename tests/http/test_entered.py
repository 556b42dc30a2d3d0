"""Entered for a participant without access, over HTTP with real crypto: a facilitator seals a
letter for a participant who never joined, with how and when they confirmed it; it is theirs
(same review, same consent) and labelled as entered, for the facilitators and the recipient.
Refusals: someone of another case, a participant who uses the portal, a bad date."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from portal import protocol
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.content.models import ContentObject
from portal.messages.models import Message
from tests.cases_world import CaseWorld, sealed_object
from tests.factories import Person, Portal

b64 = protocol.b64encode
TODAY = date.today().isoformat()


def without_access(world: CaseWorld, formats: tuple[str, ...] = ("letter",)) -> str:
    """A person responsible added to the case and consenting, who never joined: their id."""
    return world.add_without_access("person_responsible", "Kai", formats)


def enter(
    world: CaseWorld,
    participant_id: str,
    text: str,
    *,
    facilitator: Person | None = None,
    case_id: str | None = None,
    **extra: Any,
) -> httpx.Response:
    """What the enter page's sealer sends: the letter sealed by the facilitator to the case key,
    under an object id issued for this participant, and the confirmation."""
    f = facilitator or world.facilitator
    base = f"/api/cases/{case_id or world.case_id}/participants/{participant_id}"
    issued = f.post_json(f"{base}/entered/objects")
    if issued.status_code != 200:
        return issued
    object_id = issued.json()["object_id"]
    sealed = protocol.seal_letter(
        f.secret_key, f.public_key, world.case_pk, object_id, 1, text, TODAY, f.account_id
    )
    body: dict[str, Any] = {
        "recipient_participant_id": world.participant_id(world.harmed),
        "letter": sealed_object(object_id, 1, sealed),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
        "confirmed_how": "read_back_in_person",
        "confirmed_on": TODAY,
        "entered_note": b64(
            protocol.seal_case_text(
                world.case_sk, world.case_id, f"entered-note:{object_id}", "Visit at HMP"
            )
        ),
        **extra,
    }
    return f.post_json(f"{base}/entered", body)


def test_an_entered_letter_is_reviewed_released_and_labelled(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    kai = without_access(world)
    page = world.facilitator.get(f"/cases/{world.case_id}/participants/{kai}/enter")
    assert page.status_code == 200
    assert 'data-seal="enter-letter"' in page.text

    entered = enter(world, kai, "I am sorry for what I did.")
    assert entered.status_code == 200, entered.text
    message_id = entered.json()["message_id"]
    assert entered.json()["next"] == f"/review/{message_id}"
    with portal.db() as db:
        message = db.get(Message, message_id)
        assert message is not None
        assert message.author_participant_id == kai
        assert message.entered_by_id == world.facilitator.account_id
        obj = db.get(ContentObject, message.object_id)
        assert obj is not None
        assert obj.entered_for_id == kai
        assert obj.author_id == world.facilitator.account_id
        tags = list(
            db.scalars(
                select(AuditEvent.tag)
                .where(AuditEvent.subject_id == message_id)
                .order_by(AuditEvent.id)
            )
        )
        assert tags == ["message:submitted", "message:entered"]

    # The facilitators read it with the case key; the page says who entered it, and that the
    # facilitator looking at it entered it themselves once they are the one to decide.
    item, text = world.review(message_id)
    assert text == "I am sorry for what I did."
    assert item["entered"]["by_account_id"] == world.facilitator.account_id
    assert item["author_account_id"] == world.facilitator.account_id
    note = protocol.open_case_text(
        world.case_sk,
        world.case_id,
        f"entered-note:{item['object_id']}",
        protocol.b64decode(item["entered"]["note"]),
    )
    assert note == "Visit at HMP"
    review = world.facilitator.get(f"/review/{message_id}").text
    assert "Entered by you for the person responsible" in review
    assert "You entered this letter yourself" in review
    assert "Visit at HMP" not in review

    # The same facilitator may approve it (the case is not high-risk); the recipient is told
    # before opening it who entered it and how it was confirmed, then reads it.
    assert world.approve(message_id, claim=False).status_code == 200
    inbox = world.harmed.get(f"/inbox/{message_id}").text
    day = date.today()
    assert (
        "Entered by your facilitator on behalf of the person responsible, who does not use this "
        f"portal. It was confirmed by reading it back to them in person on {day.day} "
        f"{day.strftime('%B %Y')}." in inbox
    )
    assert world.open_letter(world.harmed, message_id) == "I am sorry for what I did."


def test_a_scanned_letter_is_entered_reviewed_and_released(portal: Portal) -> None:
    """Scanned pages travel as a participant's do: uploaded encrypted, chunk by chunk, by the
    facilitator who entered them (the upload is theirs, the message the participant's)."""
    world = CaseWorld.build(portal)
    kai = without_access(world)
    f = world.facilitator
    base = f"/api/cases/{world.case_id}/participants/{kai}"
    object_id = f.post_json(f"{base}/entered/objects").json()["object_id"]
    scan = secrets.token_bytes(3000)
    sealed = f.seal_message(
        world.case_pk,
        object_id,
        1,
        "",
        [protocol.Part("page", "image/png", "scan-1.png", scan)],
    )
    # Nobody else may upload into it: not another facilitator of the case, not a participant.
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    for other in (colleague, world.responsible):
        assert other.start_upload(object_id, 1, sealed.uploaded_bytes).status_code == 404
    f.upload(sealed)
    body = {
        "recipient_participant_id": world.participant_id(world.harmed),
        "letter": sealed.letter_json(),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
        "length": {"pages": 1},
        "confirmed_how": "signed_paper",
        "confirmed_on": TODAY,
    }
    entered = f.post_json(f"{base}/entered", body)
    assert entered.status_code == 200, entered.text
    message_id = entered.json()["message_id"]
    item, _text = world.review(message_id)
    assert item["entered"]["how"] == "signed_paper"
    assert world.approve(message_id, claim=False).status_code == 200
    _released, parts = world.open_media(world.harmed, message_id)
    assert parts[-1].data == scan
    assert "by their signature on the paper copy" in world.harmed.get(f"/inbox/{message_id}").text


def test_a_facilitator_withdraws_an_entered_letter_when_they_ask_for_it_back(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    kai = without_access(world)
    message_id = enter(world, kai, "Please do not send this after all.").json()["message_id"]
    assert "Withdraw it for them" in world.facilitator.get(f"/review/{message_id}").text
    url = f"/api/messages/{message_id}/withdraw-for-them"
    assert other.facilitator.post_json(url).status_code == 404
    assert world.harmed.post_json(url).status_code in {403, 404}
    withdrawn = world.facilitator.post_json(url)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    assert "Withdraw it for them" not in world.facilitator.get(f"/review/{message_id}").text
    assert world.facilitator.post_json(url).status_code == 409  # once is all
    # A letter its author wrote themselves is theirs alone to withdraw.
    own = world.write_letter(world.responsible, "Mine.")
    assert world.facilitator.post_json(f"/api/messages/{own}/withdraw-for-them").status_code == 404
    with portal.db() as db:
        actor = db.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.subject_id == message_id, AuditEvent.tag == "message:withdrawn"
            )
        ).one()
    assert actor == world.facilitator.account_id


def test_a_colleague_sees_who_entered_it(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    kai = without_access(world)
    message_id = enter(world, kai, "Words.").json()["message_id"]
    world.review(message_id, colleague)
    review = colleague.get(f"/review/{message_id}").text
    assert "Entered by " in review
    assert "for the person responsible" in review
    assert "You entered this" not in review


def test_nobody_outside_the_case_can_enter(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    kai = without_access(world)
    stranger_kai = without_access(other)
    # Another case's facilitator, for this case's participant: not found.
    assert enter(world, kai, "x", facilitator=other.facilitator).status_code == 404
    page = other.facilitator.get(f"/cases/{world.case_id}/participants/{kai}/enter")
    assert page.status_code == 404
    # This case's facilitator, naming a participant of another case: not found.
    assert enter(world, stranger_kai, "x").status_code == 404
    # A participant or a supporter: not a facilitator at all.
    base = f"/api/cases/{world.case_id}/participants/{kai}"
    assert world.responsible.post_json(f"{base}/entered/objects").status_code in {403, 404}
    with portal.db() as db:
        assert (
            db.scalars(select(Message).where(Message.author_participant_id == kai)).first() is None
        )


def test_only_for_someone_without_access(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    joined = world.participant_id(world.responsible)
    refused = enter(world, joined, "x")
    assert refused.status_code == 409
    assert "uses the portal" in refused.json()["error"]
    page = world.facilitator.get(f"/cases/{world.case_id}/participants/{joined}/enter").text
    assert "uses the portal" in page
    assert 'data-seal="enter-letter"' not in page


def test_consent_and_the_recipient_still_apply(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    no_consent = without_access(world, formats=())
    assert enter(world, no_consent, "x").status_code == 409
    kai = without_access(world)
    # A recipient of another case: not found, and nothing stored.
    stranger = other.participant_id(other.harmed)
    assert enter(world, kai, "x", recipient_participant_id=stranger).status_code == 404
    # A recipient on the participant's own side cannot receive it.
    own_side = world.participant_id(world.responsible)
    assert enter(world, kai, "x", recipient_participant_id=own_side).status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"confirmed_on": (date.today() + timedelta(days=2)).isoformat()}, "confirmed_on"),
        ({"confirmed_on": (date.today() - timedelta(days=400)).isoformat()}, "confirmed_on"),
        ({"confirmed_on": "2026-02-30"}, "confirmed_on"),
        ({"confirmed_on": ""}, "confirmed_on"),
        ({"confirmed_how": "they said so"}, "confirmed_how"),
        ({"entered_note": "not base64!"}, "entered_note"),
    ],
)
def test_a_bad_confirmation_is_a_clear_400(
    portal: Portal, change: dict[str, Any], field: str
) -> None:
    world = CaseWorld.build(portal)
    kai = without_access(world)
    refused = enter(world, kai, "x", **change)
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == field
    with portal.db() as db:
        assert (
            db.scalars(select(Message).where(Message.author_participant_id == kai)).first() is None
        )


def test_an_object_issued_for_someone_else_is_refused(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    kai = without_access(world)
    lee = without_access(world)
    base = f"/api/cases/{world.case_id}/participants"
    object_id = world.facilitator.post_json(f"{base}/{kai}/entered/objects").json()["object_id"]
    f = world.facilitator
    sealed = protocol.seal_letter(
        f.secret_key, f.public_key, world.case_pk, object_id, 1, "x", TODAY, f.account_id
    )
    body = {
        "recipient_participant_id": world.participant_id(world.harmed),
        "letter": sealed_object(object_id, 1, sealed),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
        "confirmed_how": "signed_paper",
        "confirmed_on": TODAY,
    }
    assert f.post_json(f"{base}/{lee}/entered", body).status_code == 404
    assert f.post_json(f"{base}/{kai}/entered", body).status_code == 200


# -- replies to someone without access: released on paper, printed by a facilitator --------------


def reply_to(world: CaseWorld, participant_id: str, text: str) -> str:
    """The person harmed writes to a participant without access: its message id."""
    return world.write_letter(world.harmed, text, to=participant_id)


def test_a_reply_is_released_on_paper_and_printed_by_a_facilitator(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    kai = without_access(world)
    recipients = world.harmed.get("/api/me/case").json()["recipients"]
    assert kai in {r["participant_id"] for r in recipients}
    message_id = reply_to(world, kai, "Thank you for your letter.")

    # Before release there is nothing to print.
    page = world.facilitator.get(f"/print/{message_id}")
    assert page.status_code == 200
    assert "has not been released" in page.text
    assert world.facilitator.post_json(f"/api/messages/{message_id}/printed").status_code == 409

    item, text = world.review(message_id)
    assert text == "Thank you for your letter."
    assert item["recipient"]["on_paper"] is True
    review = world.facilitator.get(f"/review/{message_id}").text
    assert "approving releases it on paper" in review
    # Nothing that needs the recipient's key may come with it; approving takes no grant.
    with_grant = world.facilitator.post_json(
        f"/api/messages/{message_id}/approve", {"recipient_grant": b64(bytes(104))}
    )
    assert with_grant.status_code in {400, 409}
    approved = world.facilitator.post_json(f"/api/messages/{message_id}/approve", {})
    assert approved.status_code == 200, approved.text

    # The facilitators still read it with the case key (the author's grant to it).
    released = world.facilitator.get(f"/api/messages/{message_id}/review").json()
    assert released["state"] == "awaiting_recipient"
    assert "Print it for" in world.facilitator.get(f"/review/{message_id}").text
    page = world.facilitator.get(f"/print/{message_id}")
    assert page.status_code == 200
    assert 'data-page="print-letter"' in page.text
    assert "Thank you" not in page.text  # only the frame: the browser places the letter in
    printed = world.facilitator.post_json(f"/api/messages/{message_id}/printed")
    assert printed.status_code == 200, printed.text
    with portal.db() as db:
        rows = list(
            db.execute(
                select(AuditEvent.tag, AuditEvent.actor_id)
                .where(AuditEvent.subject_id == message_id)
                .order_by(AuditEvent.id)
            )
        )
    assert rows[-1] == ("message:printed-for-participant", world.facilitator.account_id)

    # Another case's facilitator, the author and the recipient's other side: not found.
    for outsider in (other.facilitator, world.harmed, world.responsible):
        assert outsider.get(f"/print/{message_id}").status_code in {403, 404}
        assert outsider.post_json(f"/api/messages/{message_id}/printed").status_code in {403, 404}


def test_a_letter_released_on_paper_is_a_task_until_it_is_printed(portal: Portal) -> None:
    """On the home and above the queue of every facilitator of the case (and nobody else's),
    until one of them prints it; printing again stays possible."""
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    kai = without_access(world)
    released = reply_to(world, kai, "Thank you.")
    in_review = reply_to(world, kai, "Not decided yet.")
    to_someone_joined = world.write_letter(world.responsible, "To the person harmed.")
    world.review(released)
    assert world.facilitator.post_json(f"/api/messages/{released}/approve", {}).status_code == 200
    assert world.approve(to_someone_joined).status_code == 200

    task = f'data-to-print="{released}"'
    for facilitator in (world.facilitator, colleague):
        for page in ("/home", "/queue"):
            shown = facilitator.get(page).text
            assert task in shown, page
            assert "Letters to print" in shown
            assert f'data-to-print="{in_review}"' not in shown
            assert f'data-to-print="{to_someone_joined}"' not in shown
    assert "a letter for the person responsible" in world.facilitator.get("/home").text
    assert task not in other.facilitator.get("/home").text
    assert "Letters to print" not in other.facilitator.get("/queue").text

    assert colleague.post_json(f"/api/messages/{released}/printed").status_code == 200
    for facilitator in (world.facilitator, colleague):
        assert task not in facilitator.get("/home").text
        assert "Letters to print" not in facilitator.get("/queue").text
    # Printing again, from its review page, stays possible.
    assert f"/print/{released}" in world.facilitator.get(f"/review/{released}").text
    assert world.facilitator.get(f"/print/{released}").status_code == 200
    assert world.facilitator.post_json(f"/api/messages/{released}/printed").status_code == 200


def test_only_a_message_to_someone_without_access_has_a_print_view(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "To someone who uses the portal.")
    assert world.approve(message_id).status_code == 200
    assert world.facilitator.get(f"/print/{message_id}").status_code == 404
    assert world.facilitator.post_json(f"/api/messages/{message_id}/printed").status_code == 404


def test_only_letters_go_on_paper(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.consent(world.harmed, ["letter", "video"])
    kai = without_access(world, formats=("letter", "video"))
    # The composer offers them letters only; the person who uses the portal, whatever they
    # agreed to.
    compose = world.harmed.get("/letters/new").text
    assert f'value="{kai}" data-formats="letter"' in compose
    author = world.harmed
    object_id = author.post_json("/api/letters/objects").json()["object_id"]
    sealed = protocol.seal_letter(
        author.secret_key,
        author.public_key,
        world.case_key_as_seen_by(author),
        object_id,
        1,
        "A recording, said to be.",
        TODAY,
        author.account_id,
    )
    body = {
        "recipient_participant_id": kai,
        "letter": sealed_object(object_id, 1, sealed),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
        "format": "video",
    }
    refused = author.post_json("/api/letters", body)
    assert refused.status_code == 409
    assert "only a letter can reach them" in refused.json()["error"]


def test_the_enter_page_offers_recordings_only_where_both_agreed_to_them(portal: Portal) -> None:
    """The page carries the formats both sides agreed to (the browser offers scanned pages for
    letters, and recording only for sound or video); nothing sealed is named as a field."""
    world = CaseWorld.build(portal)
    world.consent(world.harmed, ["letter", "audio"])
    kai = without_access(world, formats=("letter", "audio", "video"))
    page = world.facilitator.get(f"/cases/{world.case_id}/participants/{kai}/enter").text
    harmed = world.participant_id(world.harmed)
    assert f'value="{harmed}" data-formats="audio letter"' in page
    assert 'data-formats="audio letter"' in page
    assert 'id="media-add"' in page
    assert 'hx-params="recipient_participant_id,confirmed_how,confirmed_on"' in page
    # Someone who agreed to letters alone: a letter or its scanned pages, no recording.
    lee = without_access(world)
    page = world.facilitator.get(f"/cases/{world.case_id}/participants/{lee}/enter").text
    assert f'value="{harmed}" data-formats="letter"' in page


def test_a_recording_is_entered_for_them_and_reviewed_as_one(portal: Portal) -> None:
    """A recording travels as a participant's does: the facilitator's upload, their message,
    declared as audio; the review page names it by what it is."""
    world = CaseWorld.build(portal)
    world.consent(world.harmed, ["letter", "audio"])
    kai = without_access(world, formats=("letter", "audio"))
    f = world.facilitator
    base = f"/api/cases/{world.case_id}/participants/{kai}"
    object_id = f.post_json(f"{base}/entered/objects").json()["object_id"]
    sound = secrets.token_bytes(5000)
    sealed = f.seal_message(
        world.case_pk, object_id, 1, "", [protocol.Part("recording", "audio/webm", "", sound)]
    )
    f.upload(sealed)
    body = {
        "recipient_participant_id": world.participant_id(world.harmed),
        "letter": sealed.letter_json(),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
        "format": "audio",
        "length": {"seconds": 4},
        "confirmed_how": "read_back_by_phone",
        "confirmed_on": TODAY,
    }
    entered = f.post_json(f"{base}/entered", body)
    assert entered.status_code == 200, entered.text
    message_id = entered.json()["message_id"]
    review = f.get(f"/review/{message_id}").text
    assert "Review an audio recording" in review
    assert "Entered by you for the person responsible" in review
    approved = world.approve(message_id)
    assert approved.status_code == 200, approved.text
    _released, parts = world.open_media(world.harmed, message_id)
    assert parts[-1].data == sound


# -- a returned one, revised for them by a facilitator of the case ---------------------------------


def revise_for_them(
    world: CaseWorld,
    message_id: str,
    text: str,
    *,
    facilitator: Person | None = None,
    **extra: Any,
) -> httpx.Response:
    """What the revise page's sealer sends: the next version of the same object, taken up by
    this facilitator and sealed by them, with how and when the changes were confirmed."""
    f = facilitator or world.facilitator
    taken = f.post_json(f"/api/messages/{message_id}/revise-for-them/object")
    if taken.status_code != 200:
        return taken
    object_id, version = taken.json()["object_id"], taken.json()["version"]
    sealed = protocol.seal_letter(
        f.secret_key, f.public_key, world.case_pk, object_id, version, text, TODAY, f.account_id
    )
    body: dict[str, Any] = {
        "letter": sealed_object(object_id, version, sealed),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
        "confirmed_how": "read_back_by_phone",
        "confirmed_on": TODAY,
        **extra,
    }
    return f.post_json(f"/api/messages/{message_id}/revise-for-them", body)


def returned_entered(world: CaseWorld, kai: str) -> str:
    message_id: str = enter(world, kai, "First words.").json()["message_id"]
    returned = world.return_with_feedback(message_id, "Could he say what he will do now?")
    assert returned.status_code == 200, returned.text
    return message_id


def test_a_returned_entered_letter_is_revised_for_them_with_a_fresh_confirmation(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    kai = without_access(world)
    message_id = returned_entered(world, kai)
    review = world.facilitator.get(f"/review/{message_id}").text
    assert f"/review/{message_id}/revise-for-them" in review
    page = world.facilitator.get(f"/review/{message_id}/revise-for-them")
    assert page.status_code == 200
    assert f'data-revises="{message_id}"' in page.text
    assert "Make changes to the letter for" in page.text
    assert 'data-sealed="entered-feedback"' in page.text
    assert 'hx-params="confirmed_how,confirmed_on"' in page.text

    revised = revise_for_them(world, message_id, "First words, and what I will do now.")
    assert revised.status_code == 200, revised.text
    assert revised.json()["next"] == f"/review/{message_id}"
    item, text = world.review(message_id)
    assert text == "First words, and what I will do now."
    assert item["version"] == 2
    assert item["entered"]["how"] == "read_back_by_phone"
    assert item["entered"]["by_account_id"] == world.facilitator.account_id
    with portal.db() as db:
        tags = list(
            db.scalars(
                select(AuditEvent.tag)
                .where(AuditEvent.subject_id == message_id)
                .order_by(AuditEvent.id)
            )
        )
    revised_at = tags.index("message:revised")
    assert tags[revised_at + 1] == "message:entered"
    # Back in the queue: no more changes until it is returned again.
    assert (
        f"/review/{message_id}/revise-for-them"
        not in world.facilitator.get(f"/review/{message_id}").text
    )
    assert world.approve(message_id, claim=False).status_code == 200
    inbox = world.harmed.get(f"/inbox/{message_id}").text
    assert "It was confirmed by reading it back to them by phone on" in inbox
    assert world.open_letter(world.harmed, message_id) == "First words, and what I will do now."


def test_a_colleague_revises_it_and_is_named_as_having_entered_it(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    kai = without_access(world)
    message_id = returned_entered(world, kai)
    # The first to take it up is overtaken by the colleague: their send is refused, not mixed.
    first = world.facilitator.post_json(f"/api/messages/{message_id}/revise-for-them/object")
    assert first.status_code == 200
    assert first.json()["version"] == 2
    revised = revise_for_them(world, message_id, "Changed by a colleague.", facilitator=colleague)
    assert revised.status_code == 200, revised.text
    item, text = world.review(message_id, colleague)
    assert text == "Changed by a colleague."
    assert item["entered"]["by_account_id"] == colleague.account_id
    assert item["author_account_id"] == colleague.account_id
    assert (
        "Entered by you for the person responsible" in colleague.get(f"/review/{message_id}").text
    )


def test_revising_for_them_is_refused_clearly(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    kai = without_access(world)
    message_id = returned_entered(world, kai)
    page, take_up = (
        f"/review/{message_id}/revise-for-them",
        f"/api/messages/{message_id}/revise-for-them/object",
    )
    # Another case's facilitator, a participant: not found (or not their role).
    assert other.facilitator.get(page).status_code == 404
    assert other.facilitator.post_json(take_up).status_code == 404
    assert revise_for_them(world, message_id, "x", facilitator=other.facilitator).status_code == 404
    assert world.harmed.post_json(take_up).status_code in {403, 404}
    assert world.harmed.get(page).status_code in {403, 404}
    # A confirmation from before it was returned, or none: a clear 400, nothing changed.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    refused = revise_for_them(world, message_id, "x", confirmed_on=yesterday)
    assert refused.status_code == 400
    assert refused.json()["field"] == "confirmed_on"
    assert "before it was returned" in refused.json()["error"]
    assert revise_for_them(world, message_id, "x", confirmed_on="").status_code == 400
    with portal.db() as db:
        message = db.get(Message, message_id)
        assert message is not None
        assert (message.version, message.state.value) == (1, "returned")
    # A letter its author wrote themselves is theirs to revise: not found here.
    own = world.write_letter(world.responsible, "Mine.")
    assert world.return_with_feedback(own, "A change?").status_code == 200
    assert world.facilitator.get(f"/review/{own}/revise-for-them").status_code == 404
    own_take_up = f"/api/messages/{own}/revise-for-them/object"
    assert world.facilitator.post_json(own_take_up).status_code == 404
    # Not returned (waiting for review): no page (back to its review), nothing to take up.
    waiting = enter(world, kai, "Waiting.").json()["message_id"]
    shown = world.facilitator.get(f"/review/{waiting}/revise-for-them", follow_redirects=False)
    assert shown.status_code == 303
    assert shown.headers["location"].endswith(f"/review/{waiting}")
    not_returned = revise_for_them(world, waiting, "x")
    assert not_returned.status_code == 409
    # Revised once, it is not returned any more: a second revision is refused.
    assert revise_for_them(world, message_id, "Once.").status_code == 200
    assert revise_for_them(world, message_id, "Twice.").status_code == 409


def test_the_queue_row_says_who_entered_it_and_for_whom(portal: Portal) -> None:
    """The queue names what was entered as the review page does ("Entered by you for the person
    responsible"; a colleague's sign-in name for the others); a letter its author wrote
    themselves has no such label."""
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    kai = without_access(world)
    entered_id = enter(world, kai, "Entered.").json()["message_id"]
    own = world.write_letter(world.responsible, "Mine.")
    queue = world.facilitator.get("/queue").text
    row = queue[queue.index(f'data-message-id="{entered_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Entered by you for the person responsible" in row
    mine = queue[queue.index(f'data-message-id="{own}"') :]
    assert "data-entered" not in mine[: mine.index("</tr>")]
    theirs = colleague.get("/queue").text
    assert f"Entered by {world.facilitator.name} for the person responsible" in theirs
