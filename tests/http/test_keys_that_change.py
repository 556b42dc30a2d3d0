"""Keys that change (issue 11, item 4): a participant or supporter who lost their password and
recovery code is given a code for a new key by a facilitator (made in the facilitator's
browser, like an invitation); releases to the new key are refused until it is compared in
person again; then the facilitator's browser grants again what had been released to them, and
to a supporter compared late what the participant chose to open. portal/invitations/services.py
(_rekey), portal/messages/regrants.py, portal/messages/regrant_views.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from portal import local_time, protocol, wire
from portal.accounts.models import Account, Role, SignInSession, Vault
from portal.audit.models import AuditEvent
from portal.cases.models import Participant
from portal.content.models import ContentGrant, Draft, GrantPurpose
from tests.cases_world import CaseWorld, open_released
from tests.factories import Person, Portal, mac_fields

REPO = Path(__file__).resolve().parents[2]

b64 = protocol.b64encode


def rekey_code(world: CaseWorld, person: Person, supporter_id: str | None = None) -> dict[str, Any]:
    """The facilitator's browser makes a code for a new key for ``person`` (a participant, or
    the supporter in place ``supporter_id``)."""
    side = world.participant_id(person) if supporter_id is None else None
    body: dict[str, Any] = {"rekey": True}
    if supporter_id is None:
        body |= {"role": "participant", "participant_id": side}
    else:
        body |= {"role": "supporter", "supporter_id": supporter_id}
    prepared = world.facilitator.post_json("/api/invitations/prepare", body)
    assert prepared.status_code == 200, prepared.text
    reserved: dict[str, Any] = prepared.json()
    assert reserved["account_id"] == person.account_id
    return reserved


def rekey(
    world: CaseWorld, person: Person, supporter_id: str | None = None, *, of: Person | None = None
) -> Person:
    """``person`` joins with the code and makes a new key pair: the same account, new keys.
    ``of``: the participant whose side a supporter is on."""
    prepared = rekey_code(world, person, supporter_id)
    side = world.participant_id(of or person)
    role = Role.PARTICIPANT if supporter_id is None else Role.SUPPORTER
    code, sealed = world.facilitator.seal_for(prepared, role, side, world.case_id, rekey=True)
    url = f"/api/invitations/{prepared['invitation_id']}/seal"
    assert world.facilitator.post_json(url, sealed).status_code == 200
    again = world.portal.visitor().join_invited(code, name=person.name)
    assert again.account_id == person.account_id
    if supporter_id is None:
        world.participant_ids[again.account_id] = side
    return again


def regrant_all(world: CaseWorld, expected: int | None = None) -> dict[str, Any]:
    """What the facilitator's browser does on the case page: every owed item opened with the
    case key and its content key granted to the person's current key."""
    facilitator = world.facilitator
    listing: dict[str, Any] = facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    for person in listing["people"]:
        key = protocol.b64decode(person["public_key"])
        grants = []
        for item in person["items"]:
            content_key, digest = protocol.open_content_grant(
                world.case_sk,
                protocol.b64decode(item["sender_public_key"]),
                item["object_id"],
                item["version"],
                protocol.b64decode(item["grant"]),
            )
            grant = protocol.make_content_grant(
                facilitator.secret_key, key, item["object_id"], item["version"], content_key, digest
            )
            grants.append(
                {"object_id": item["object_id"], "version": item["version"], "grant": b64(grant)}
            )
        body = {"account_id": person["account_id"], "public_key": person["public_key"]}
        given = facilitator.post_json(
            f"/api/cases/{world.case_id}/regrants", body | {"grants": grants}
        )
        assert given.status_code == 200, given.text
    if expected is not None:
        assert sum(len(p["items"]) for p in listing["people"]) == expected
    return listing


def released_letter(world: CaseWorld, text: str, *, opened: bool = True) -> str:
    message_id = world.write_letter(world.responsible, text)
    assert world.approve(message_id).status_code == 200
    if opened:
        assert world.open_letter(world.harmed, message_id) == text
    return message_id


# -- the new key ----------------------------------------------------------------------------------


def test_a_rekeyed_participant_has_new_keys_and_nothing_sealed_to_the_old_ones(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.harmed)
    message_id = released_letter(world, "I am sorry.")
    old_public_key = world.harmed.public_key
    with portal.db() as db:
        before = db.get(Account, world.harmed.account_id)
        assert before is not None
        key_changed = before.keys_changed_at

    harmed = rekey(world, world.harmed)

    assert harmed.public_key != old_public_key
    with portal.db() as db:
        account = db.get(Account, harmed.account_id)
        assert account is not None
        assert account.public_key == harmed.public_key
        assert account.keys_changed_at > key_changed  # what the review page's date names
        # Grants to the old key, the vault sealed to it, the old sessions: gone.
        assert (
            db.scalars(
                select(ContentGrant).where(ContentGrant.recipient_account_id == harmed.account_id)
            ).all()
            == []
        )
        assert db.get(Vault, harmed.account_id) is None
        participant = db.get(Participant, world.participant_id(harmed))
        assert participant is not None
        assert participant.case_public_grant is None
        assert participant.verified_public_key == old_public_key  # what was compared stays
        live = db.scalars(
            select(SignInSession).where(
                SignInSession.account_id == harmed.account_id, SignInSession.ended_at.is_(None)
            )
        ).all()
        assert len(live) == 1  # the new browser's only
        tags = db.scalars(
            select(AuditEvent.tag).where(AuditEvent.actor_id == harmed.account_id)
        ).all()
        assert "account:rekeyed" in tags
    # The old password no longer signs in; the new one does.
    assert world.harmed.try_sign_in().status_code in (400, 401, 403)
    assert harmed.try_sign_in().status_code == 200
    # They wait, and are told why in plain words.
    home = harmed.get("/home").text
    assert (
        "Your facilitator needs to check your new key before you can read your letters again"
        in home
    )
    # The letter opened before has no grant for them now.
    assert harmed.post_json(f"/api/inbox/{message_id}/open", {}).status_code == 404


def test_only_a_facilitator_of_the_case_makes_a_code_for_a_joined_person(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    pid = world.participant_id(world.harmed)
    body = {"role": "participant", "participant_id": pid, "rekey": True}
    assert other.facilitator.post_json("/api/invitations/prepare", body).status_code == 404
    assert world.harmed.post_json("/api/invitations/prepare", body).status_code in (403, 404)
    # Someone who has not joined is invited, not re-keyed.
    waiting, _code = world.invite_participant("person_harmed", "Kim")
    unjoined = {"role": "participant", "participant_id": waiting, "rekey": True}
    assert world.facilitator.post_json("/api/invitations/prepare", unjoined).status_code == 409


def test_a_rekey_code_works_once_and_keeps_nobody_elses_name(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    prepared = rekey_code(world, world.harmed)
    side = world.participant_id(world.harmed)
    code, sealed = world.facilitator.seal_for(
        prepared, Role.PARTICIPANT, side, world.case_id, rekey=True
    )
    world.facilitator.post_json(f"/api/invitations/{prepared['invitation_id']}/seal", sealed)
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code))
    started = portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert started.json()["purpose"] == "rekey"
    assert started.json()["account_id"] == world.harmed.account_id
    # Another person's sign-in name is refused; their own is kept.
    taken = portal.visitor()
    taken.name = world.responsible.name
    taken_result = _try_join(taken, code)
    assert taken_result.status_code == 409
    again = portal.visitor().join_invited(code, name=world.harmed.name)
    assert again.account_id == world.harmed.account_id
    assert _try_join(portal.visitor(), code).status_code == 410


def _started(code_text: str, portal: Portal) -> tuple[bytes, dict[str, Any]]:
    """What a joiner's browser gets for a code: its MAC key, and the join/start answer."""
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code_text))
    started = portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert started.status_code == 200, started.text
    answer: dict[str, Any] = started.json()
    return found.mac_key, answer


def test_a_code_for_a_new_key_says_so_under_its_mac_and_a_join_code_cannot_pass_for_one(
    portal: Portal,
) -> None:
    """The MAC names a re-key ("purpose": "rekey", for this account): a server that serves it
    as an invitation to join, or serves an invitation to join as a re-key, fails the check."""
    world = CaseWorld.build(portal)
    prepared = rekey_code(world, world.harmed)
    side = world.participant_id(world.harmed)
    code, sealed = world.facilitator.seal_for(
        prepared, Role.PARTICIPANT, side, world.case_id, rekey=True
    )
    url = f"/api/invitations/{prepared['invitation_id']}/seal"
    assert world.facilitator.post_json(url, sealed).status_code == 200
    mac_key, answer = _started(code, portal)
    assert answer["purpose"] == "rekey"
    assert answer["account_id"] == world.harmed.account_id
    fields, mac = mac_fields(answer), protocol.b64decode(answer["mac"])
    assert fields["purpose"] == "rekey"
    protocol.check_invitation_mac(mac_key, fields, mac)
    as_join = {k: v for k, v in fields.items() if k != "purpose"}
    with pytest.raises(protocol.DecryptionFailed):
        protocol.check_invitation_mac(mac_key, as_join, mac)

    _participant_id, join_code = world.invite_participant("person_harmed", "Sam")
    mac_key, answer = _started(join_code, portal)
    assert answer["purpose"] == "invite"
    fields, mac = mac_fields(answer), protocol.b64decode(answer["mac"])
    assert "purpose" not in fields
    protocol.check_invitation_mac(mac_key, fields, mac)
    with pytest.raises(protocol.DecryptionFailed):
        protocol.check_invitation_mac(mac_key, fields | {"purpose": "rekey"}, mac)


def _try_join(person: Person, code: str) -> Any:
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code))
    started = person.post_json("/api/join/start", {"lookup_id": found.lookup_id})
    if started.status_code != 200:
        return started
    invitation = started.json()
    person.account_id = invitation["account_id"]
    person.password = person.password or "a long enough passphrase"
    body = person.join_body("", person._account_keys(invitation))
    del body["code"]
    body["redeem_proof"] = b64(found.redeem_proof)
    return person.post_json("/api/join/complete", body)


# -- refused until compared again -----------------------------------------------------------------


def test_a_changed_key_is_refused_until_compared_again_and_the_review_page_says_why(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.harmed)
    harmed = rekey(world, world.harmed)
    message_id = world.write_letter(world.responsible, "I want to apologise.")

    refused = world.approve(message_id, recipient=harmed)
    assert refused.status_code == 409
    assert "changed since it was compared in person" in refused.json()["error"]
    page = world.facilitator.get(f"/review/{message_id}").text
    assert "key changed on" in page
    assert "compare it with them before releasing" in page
    assert 'id="approve-form"' not in page

    world.verify(harmed)
    assert world.approve(message_id, recipient=harmed, claim=False).status_code == 200
    assert world.open_letter(harmed, message_id) == "I want to apologise."


def test_a_supporter_grant_is_refused_for_a_key_not_compared_in_person(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed, verified=False)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    refused = world.approve(message_id, readers={reader_id: reader})
    assert refused.status_code == 409
    world.verify_supporter(reader_id, reader)
    assert world.approve(message_id, readers={reader_id: reader}, claim=False).status_code == 200


# -- granted again ---------------------------------------------------------------------------------


def test_after_comparing_again_what_was_released_is_granted_again_and_reads(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.harmed)
    opened = released_letter(world, "I am sorry.")
    offered = released_letter(world, "A second letter.", opened=False)
    with_note = world.write_letter(world.responsible, "A third, with a note.")
    assert world.approve(with_note, note="Take your time.").status_code == 200
    harmed = rekey(world, world.harmed)
    # Nothing is owed to a key not compared again.
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    assert listing["people"] == []

    world.verify(harmed)
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    [person] = listing["people"]
    assert person["account_id"] == harmed.account_id
    assert person["supporter_id"] is None
    owed = {(item["message_id"], item["what"]) for item in person["items"]}
    assert owed == {
        (opened, "letter"),
        (offered, "letter"),
        (with_note, "letter"),
        (with_note, "content_note"),
    }
    regrant_all(world, expected=4)
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []

    released = harmed.post_json(f"/api/inbox/{opened}/open", {"author_may_see": False})
    assert open_released(harmed, released.json()) == "I am sorry."
    assert world.open_letter(harmed, offered) == "A second letter."
    assert world.open_letter(harmed, with_note) == "A third, with a note."
    assert world.read_content_note(harmed, with_note) == "Take your time."
    assert "Your facilitator needs to check your new key" not in harmed.get("/home").text


def test_a_grant_again_is_refused_for_what_is_not_owed_or_to_another_key(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.harmed)
    message_id = released_letter(world, "I am sorry.")
    harmed = rekey(world, world.harmed)
    url = f"/api/cases/{world.case_id}/regrants"
    grant = {"object_id": message_id, "version": 1, "grant": b64(bytes(wire.CONTENT_GRANT))}
    body = {
        "account_id": harmed.account_id,
        "public_key": b64(harmed.public_key),
        "grants": [grant],
    }
    # Not compared again yet: refused.
    assert world.facilitator.post_json(url, body).status_code == 409
    world.verify(harmed)
    # Not an owed item (a message id is not its object's id), another key, nothing at all.
    assert world.facilitator.post_json(url, body).status_code in (400, 409)
    wrong_key = body | {"public_key": b64(world.responsible.public_key)}
    assert world.facilitator.post_json(url, wrong_key).status_code in (400, 409)
    assert world.facilitator.post_json(url, body | {"grants": []}).status_code == 400
    assert world.facilitator.post_json(url, {"account_id": "x"}).status_code == 400
    # Someone from another case: as if the case did not exist.
    other = CaseWorld.build(portal)
    assert other.facilitator.get(url).status_code == 404
    assert other.facilitator.post_json(url, body).status_code == 404
    assert harmed.get(url).status_code in (403, 404)


# -- supporters compared late ----------------------------------------------------------------------


def test_a_supporter_compared_late_catches_up_on_what_the_participant_opened_only(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed, verified=False)
    opened = released_letter(world, "I am sorry.")
    not_opened = released_letter(world, "Not opened yet.", opened=False)
    # Not compared yet: nothing owed to them.
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []

    world.verify_supporter(reader_id, reader)
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    [person] = listing["people"]
    assert person["supporter_id"] == reader_id
    assert [(i["message_id"], i["what"]) for i in person["items"]] == [(opened, "letter")]
    regrant_all(world, expected=1)

    released = reader.post_json(f"/api/supporting/{opened}/open")
    assert released.status_code == 200, released.text
    assert open_released(reader, released.json()) == "I am sorry."
    assert reader.post_json(f"/api/supporting/{not_opened}/open").status_code == 404
    # Once the participant opens the other, it is owed too.
    world.open_letter(world.harmed, not_opened)
    regrant_all(world, expected=1)
    assert reader.post_json(f"/api/supporting/{not_opened}/open").status_code == 200


def test_a_supporter_who_may_not_read_or_was_revoked_is_owed_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed, verified=False)
    writer, writer_id = world.add_supporter(
        world.harmed, display_name="Kim", may_read=False, may_write=True, verified=False
    )
    message_id = released_letter(world, "I am sorry.")
    world.verify_supporter(reader_id, reader)
    world.verify_supporter(writer_id, writer)
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    assert [p["supporter_id"] for p in listing["people"]] == [reader_id]

    assert world.harmed.post_json(f"/api/my/supporters/{reader_id}/revoke").status_code == 200
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []
    body = {
        "account_id": reader.account_id,
        "public_key": b64(reader.public_key),
        "grants": [
            {"object_id": message_id, "version": 1, "grant": b64(bytes(wire.CONTENT_GRANT))}
        ],
    }
    refused = world.facilitator.post_json(f"/api/cases/{world.case_id}/regrants", body)
    assert refused.status_code == 409
    assert reader.post_json(f"/api/supporting/{message_id}/open").status_code == 404


def test_a_rekeyed_supporter_reads_again_once_compared(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    reader, reader_id = world.add_supporter(world.harmed)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    assert world.approve(message_id, readers={reader_id: reader}).status_code == 200
    world.open_letter(world.harmed, message_id)
    again = rekey(world, reader, reader_id, of=world.harmed)
    assert again.post_json(f"/api/supporting/{message_id}/open").status_code == 404
    assert "Your facilitator needs to check your new key" in again.get("/home").text
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []
    world.verify_supporter(reader_id, again)
    assert "can be read again once they next open your case" in again.get("/home").text
    regrant_all(world, expected=1)
    released = again.post_json(f"/api/supporting/{message_id}/open")
    assert open_released(again, released.json()) == "I am sorry."


# -- the facilitator's task ------------------------------------------------------------------------


def test_the_facilitators_home_and_queue_show_who_waits_for_access_again(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.harmed)
    released_letter(world, "I am sorry.")
    harmed = rekey(world, world.harmed)
    for page in ("/home", "/queue"):
        assert (
            "Waiting for your browser to give access again" not in world.facilitator.get(page).text
        )
    world.verify(harmed)
    for page in ("/home", "/queue"):
        text = world.facilitator.get(page).text
        assert "Waiting for your browser to give access again" in text
        assert f"/cases/{world.case_id}" in text
    regrant_all(world)
    assert (
        "Waiting for your browser to give access again" not in world.facilitator.get("/home").text
    )


def _marked(portal: Portal, world: CaseWorld, person: Person) -> bool:
    """Whether the participant is marked as owed grants (Participant.grants_owed_since)."""
    with portal.db() as db:
        participant = db.get(Participant, world.participant_id(person))
        assert participant is not None
        return participant.grants_owed_since is not None


def _mark_as_migration_0027_does(portal: Portal) -> None:
    """Every mark removed, then set again by the migration's own statement for existing rows."""
    path = REPO / "portal/migrations/versions/0027_grants_owed_marker.py"
    spec = importlib.util.spec_from_file_location("migration_0027", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with portal.db() as db:
        db.execute(sa.update(Participant).values(grants_owed_since=None))
        db.execute(sa.text(migration._OWED_NOW))
        db.commit()


def test_only_someone_owed_grants_is_marked_for_the_home_and_until_all_are_given(
    portal: Portal,
) -> None:
    """The facilitator's home and queue look only at participants marked as owed grants
    (messages/regrants.mark_if_owed): a first comparison marks nobody, a comparison after a
    re-key marks them, giving everything back clears it; and the migration that brought the
    mark (0027) marks existing rows exactly so."""
    world = CaseWorld.build(portal)
    world.verify(world.harmed)
    released_letter(world, "I am sorry.")
    world.verify(world.responsible)
    assert not _marked(portal, world, world.harmed)
    assert not _marked(portal, world, world.responsible)

    harmed = rekey(world, world.harmed)
    assert not _marked(portal, world, harmed)  # a key not compared is owed nothing
    world.verify(harmed)
    assert _marked(portal, world, harmed)
    assert not _marked(portal, world, world.responsible)
    _mark_as_migration_0027_does(portal)
    assert _marked(portal, world, harmed)
    assert not _marked(portal, world, world.responsible)

    regrant_all(world, expected=1)
    assert not _marked(portal, world, harmed)
    world.verify(harmed)  # compared again, with nothing owed
    assert not _marked(portal, world, harmed)
    _mark_as_migration_0027_does(portal)
    assert not _marked(portal, world, harmed)


def test_a_letter_sealed_before_its_writer_was_given_a_new_key_still_opens(
    portal: Portal,
) -> None:
    """A grant's box opens only with the sender's public key of its day: the server keeps it
    with the grant, so the writer's new key does not lock their earlier letter away."""
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Written before.")
    rekey(world, world.responsible)
    item, text = world.review(message_id)
    assert text == "Written before."
    assert item["author_public_key"] == b64(world.responsible.public_key)  # the old key
    assert item["author_key_earlier"] is True
    # The review page names the writer and when their key changed, rather than nobody's key.
    page = world.facilitator.get(f"/review/{message_id}").text
    with portal.db() as db:
        account = db.get(Account, world.responsible.account_id)
        assert account is not None
        changed_on = local_time.day(account.keys_changed_at)
    assert 'data-when-key="earlier-verified"' in page
    assert f"earlier key, before their key changed on {changed_on}" in page
    assert world.approve(message_id, claim=False).status_code == 200
    assert world.open_letter(world.harmed, message_id) == "Written before."


# -- what they wrote themselves ---------------------------------------------------------------


def test_a_rekeyed_author_reads_what_they_wrote_and_its_feedback_again_once_compared(
    portal: Portal,
) -> None:
    """Their own letters are sealed to the case key too, so a facilitator's browser grants them
    again, as their author's grant, with the feedback returned on them; until then they are told
    why they cannot read them, and nothing sealed to the old key is served as theirs."""
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    sent = world.write_letter(world.responsible, "I am sorry.")
    assert world.approve(sent).status_code == 200
    returned = world.write_letter(world.responsible, "A first try.")
    assert world.return_with_feedback(returned, "Say more about the day.").status_code == 200
    waiting = world.write_letter(world.responsible, "Still in review.")
    responsible = rekey(world, world.responsible)

    answer = responsible.get(f"/api/letters/{sent}")
    assert answer.status_code == 409
    assert "your account has a new key" in answer.json()["error"]
    # Nothing is owed to a key not compared again.
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []
    assert "Your facilitator needs to check your new key" in responsible.get("/home").text

    world.verify(responsible)
    assert "what you wrote, can be read again" in responsible.get("/home").text
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    [person] = listing["people"]
    assert person["account_id"] == responsible.account_id
    assert {(item["message_id"], item["what"]) for item in person["items"]} == {
        (sent, "own_letter"),
        (returned, "own_letter"),
        (returned, "feedback"),
        (waiting, "own_letter"),
    }
    regrant_all(world, expected=4)
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []

    for message_id, text in ((sent, "I am sorry."), (returned, "A first try.")):
        assert world.read_own_letter(responsible, message_id) == text
    assert world.read_own_letter(responsible, waiting) == "Still in review."
    assert world.read_feedback(responsible, returned) == "Say more about the day."
    mine = responsible.get(f"/api/letters/{sent}").json()
    assert mine["sender_account_id"] == world.facilitator.account_id
    with portal.db() as db:
        purposes = db.scalars(
            select(ContentGrant.purpose).where(
                ContentGrant.recipient_account_id == responsible.account_id
            )
        ).all()
        assert sorted(purposes) == sorted([GrantPurpose.AUTHOR] * 3 + [GrantPurpose.RECIPIENT])
    # Given the case key again (the case page's browser hands it over), they revise the
    # returned letter from what they read again.
    grant = protocol.make_case_public_grant(
        world.facilitator.secret_key, responsible.public_key, world.case_id, world.case_pk
    )
    base = f"/api/cases/{world.case_id}/participants/{world.participant_id(responsible)}"
    assert world.facilitator.post_json(f"{base}/case-key", {"grant": b64(grant)}).status_code == 200
    world.revise_letter(responsible, returned, "A second try.")
    assert world.read_own_letter(responsible, returned) == "A second try."
    assert "can be read again" not in responsible.get("/home").text


def test_what_a_writer_wrote_on_someones_behalf_is_granted_to_them_again(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    writer, place = world.add_writer(world.responsible, may_read=False)
    world.verify_supporter(place, writer)
    message_id = world.write_letter(writer, "Written for them.")
    writer = rekey(world, writer, place, of=world.responsible)
    world.verify_supporter(place, writer)
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    [person] = listing["people"]
    assert person["supporter_id"] == place
    assert [(i["message_id"], i["what"]) for i in person["items"]] == [(message_id, "own_letter")]
    regrant_all(world, expected=1)
    assert world.read_own_letter(writer, message_id) == "Written for them."


def test_a_rekey_drops_drafts_sealed_to_the_old_key_and_a_deleted_letter_is_not_owed(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    deleted = world.write_letter(world.responsible, "To be deleted.")
    assert world.responsible.post_json(f"/api/letters/{deleted}/withdraw").status_code == 200
    assert world.responsible.post_json(f"/api/letters/{deleted}/delete").status_code == 200
    saved = world.responsible.request(
        "PUT",
        "/api/drafts/5d0c2bde-6b1e-4a3c-9a67-0f3f1a3b1c11",
        json={"blob": b64(b"x" * 64)},
        headers={"X-CSRF-Token": world.responsible.csrf()},
    )
    assert saved.status_code == 200, saved.text
    responsible = rekey(world, world.responsible)
    with portal.db() as db:
        assert (
            db.scalars(select(Draft).where(Draft.account_id == responsible.account_id)).all() == []
        )
    world.verify(responsible)
    assert world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()["people"] == []


def test_feedback_on_a_letter_sealed_before_a_key_change_waits_for_the_new_key(
    portal: Portal,
) -> None:
    """Returned after its writer was given a new key pair, but before anyone compared it: the
    reviewer's browser seals the feedback to the case key alone (client/review-keys.js
    writerKeyFrom), the server takes it without a grant to the writer only then, and a browser
    that compares the new key gives it to them from the case key."""
    world = CaseWorld.build(portal)
    world.verify(world.responsible)
    no_change = world.write_letter(world.responsible, "Nothing changed.")
    world.review(no_change)
    note = world.note(world.responsible.public_key, "feedback", "Say more.")
    del note["grant_to_person"]
    refused = world.facilitator.post_json(f"/api/messages/{no_change}/return", {"feedback": note})
    assert (refused.status_code, refused.json()["field"]) == (400, "feedback")

    message_id = world.write_letter(world.responsible, "Written before.")
    responsible = rekey(world, world.responsible)
    item, _text = world.review(message_id)
    assert item["writer_public_key"] == b64(responsible.public_key)
    note = world.note(responsible.public_key, "feedback", "A gentler start, perhaps.")
    del note["grant_to_person"]
    returned = world.facilitator.post_json(f"/api/messages/{message_id}/return", {"feedback": note})
    assert returned.status_code == 200, returned.text

    world.verify(responsible)
    listing = world.facilitator.get(f"/api/cases/{world.case_id}/regrants").json()
    [person] = listing["people"]
    owed = {(item["message_id"], item["what"]) for item in person["items"]}
    assert (message_id, "feedback") in owed
    regrant_all(world, expected=len(owed))
    assert world.read_feedback(responsible, message_id) == "A gentler start, perhaps."
