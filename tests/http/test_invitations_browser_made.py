"""Invitations made in the inviter's browser (docs/api-trust.md): prepare, seal, join by lookup
id with the MAC checked first, redeem with the redeem proof. Who may invite whom, and every
refusal; the server never holds the code, the redeem proof or the MAC key."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from portal import protocol
from portal.accounts.models import Account, Role
from portal.db import utcnow
from portal.invitations.models import Invitation
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import INVITATION_MAC_FIELDS, Person, Portal
from tests.support import leaks

b64 = protocol.b64encode


def _new_participant(world: CaseWorld) -> str:
    """A participant added to the case who has not been invited yet."""
    participant_id = str(uuid.uuid4())
    sealed = protocol.seal_case_text(
        world.case_sk, world.case_id, f"participant-name:{participant_id}", "Jo"
    )
    added = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants",
        {"participant_id": participant_id, "side": "person_harmed", "sealed_name": b64(sealed)},
    )
    assert added.status_code == 200, added.text
    return participant_id


def _start(visitor: Person, code_text: str) -> tuple[protocol.InvitationSecrets, dict[str, Any]]:
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code_text))
    started = visitor.post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert started.status_code == 200, started.text
    body: dict[str, Any] = started.json()
    return found, body


def _complete_body(
    visitor: Person, invitation: dict[str, Any], redeem_proof: bytes
) -> dict[str, Any]:
    visitor.name, visitor.password = f"joiner {uuid.uuid4().hex[:8]}", "a long enough password"
    visitor.account_id, visitor.role = invitation["account_id"], invitation["role"]
    kdf = invitation["kdf"]
    keys = protocol.derive_account_keys(
        visitor.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    visitor.secret_key, visitor.public_key = protocol.generate_identity()
    visitor.recovery_key = protocol.generate_recovery_key()
    body = visitor.join_body("", keys)
    del body["code"]
    body["redeem_proof"] = b64(redeem_proof)
    return body


# -- preparing: who may invite whom ----------------------------------------------------------


def test_prepare_answers_the_reservation_and_the_root(portal: Portal) -> None:
    root = portal.service_root()

    prepared = root.prepare_invitation(Role.FACILITATOR)

    assert set(prepared) == {"invitation_id", "account_id", "expires_at", "root"}
    assert prepared["root"] == {
        "account_id": root.account_id,
        "signing_public_key": b64(root.signing_public_key),
    }
    # Whole seconds, as statements and the MAC write a time.
    assert len(prepared["expires_at"]) == 20
    assert prepared["expires_at"].endswith("Z")
    with portal.db() as db:
        invitation = db.get(Invitation, prepared["invitation_id"])
        assert invitation is not None
        assert invitation.code_hash is None
        assert invitation.lookup_id is None  # not usable until sealed
        assert invitation.account_id == prepared["account_id"]


def test_who_may_prepare_which_invitation(portal: Portal) -> None:
    root = portal.service_root()
    world = CaseWorld.build(portal)
    other_world = CaseWorld.build(portal)
    facilitator = world.facilitator
    own_participant = _new_participant(world)
    others_participant = _new_participant(other_world)

    own_place = world.add_supporter_place(world.harmed)

    def prepare(
        person: Person,
        role: str,
        participant_id: str | None = None,
        supporter_id: str | None = None,
    ) -> int:
        body: dict[str, Any] = {"role": role}
        if participant_id is not None:
            body["participant_id"] = participant_id
        if supporter_id is not None:
            body["supporter_id"] = supporter_id
        return person.post_json("/api/invitations/prepare", body).status_code

    # A service manager brings in staff; a facilitator the participants of their cases and
    # their supporters.
    assert prepare(root, "facilitator") == 200
    assert prepare(root, "service_manager") == 200
    assert prepare(facilitator, "participant", own_participant) == 200
    assert prepare(facilitator, "supporter", supporter_id=own_place) == 200
    # Everything else is refused.
    assert prepare(root, "participant", own_participant) == 403
    assert prepare(root, "supporter") == 403
    assert prepare(other_world.facilitator, "supporter", supporter_id=own_place) == 404
    assert prepare(facilitator, "supporter") == 400  # made for a place, on the case page
    assert prepare(facilitator, "facilitator") == 403
    assert prepare(facilitator, "service_manager") == 403
    # Someone from another case: their participant does not exist as far as this one knows.
    assert prepare(other_world.facilitator, "participant", own_participant) == 404
    assert prepare(facilitator, "participant", others_participant) == 404
    assert prepare(facilitator, "participant", str(uuid.uuid4())) == 404
    # A participant's invitation names the participant; nobody else's does.
    assert prepare(facilitator, "participant") == 400
    assert prepare(facilitator, "supporter", own_participant) == 400
    assert prepare(facilitator, "astronaut") == 400
    for person in (world.harmed, world.responsible, portal.person(Role.SUPPORTER)):
        assert prepare(person, "supporter") == 403
        assert prepare(person, "participant", own_participant) == 403
    assert prepare(portal.visitor(), "facilitator") == 401


def test_a_joined_participant_is_not_invited_again(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    joined = world.participant_id(world.harmed)
    answer = world.facilitator.post_json(
        "/api/invitations/prepare", {"role": "participant", "participant_id": joined}
    )
    assert answer.status_code == 409


def test_prepare_needs_a_root(portal: Portal) -> None:
    manager = portal.visitor().join(portal.setup_code())  # set up before trust anchors
    assert manager.post_json("/api/invitations/prepare", {"role": "facilitator"}).status_code == 409
    # A later setup does not make the root: the first service manager certifies themself.
    later = portal.visitor().join(portal.setup_code(), as_root=True)
    assert later.get("/api/trust").json()["root"] is None
    assert later.post_json("/api/invitations/prepare", {"role": "facilitator"}).status_code == 409


def test_an_inviter_without_a_signing_key_is_asked_to_register_it(portal: Portal) -> None:
    root = portal.service_root()
    legacy = Person(portal.http, legacy=True).join(portal.invitation_code(root, Role.FACILITATOR))
    answer = legacy.post_json("/api/invitations/prepare", {"role": "supporter"})
    assert answer.status_code == 409
    assert "signing key" in answer.json()["error"]


# -- sealing --------------------------------------------------------------------------------


def test_only_the_inviter_seals_and_only_once(portal: Portal) -> None:
    root = portal.service_root()
    other = portal.service_manager()
    prepared = root.prepare_invitation(Role.FACILITATOR)
    _code, sealed = root.seal_for(prepared, Role.FACILITATOR)
    path = f"/api/invitations/{prepared['invitation_id']}/seal"

    assert other.post_json(path, sealed).status_code == 404
    assert portal.person(Role.FACILITATOR).post_json(path, sealed).status_code == 404
    assert portal.visitor().post_json(path, sealed).status_code == 401
    assert root.post_json("/api/invitations/not-an-id/seal", sealed).status_code == 404

    first = root.post_json(path, sealed)
    assert first.status_code == 200
    assert first.json() == {
        "invitation_id": prepared["invitation_id"],
        "expires_at": prepared["expires_at"],
    }
    _again, resealed = root.seal_for(prepared, Role.FACILITATOR)
    assert root.post_json(path, resealed).status_code == 409


def test_seal_fields_are_checked(portal: Portal) -> None:
    root = portal.service_root()
    prepared = root.prepare_invitation(Role.FACILITATOR)
    _code, sealed = root.seal_for(prepared, Role.FACILITATOR)
    path = f"/api/invitations/{prepared['invitation_id']}/seal"
    for name, value in [
        ("lookup_id", "A" * 32),  # hex only, lower case
        ("lookup_id", "0" * 31),
        ("lookup_id", "0" * 64),
        ("redeem_proof_hash", b64(b"\x01" * 31)),
        ("mac", b64(b"\x01" * 33)),
        ("mac", None),
    ]:
        answer = root.post_json(path, {**sealed, name: value})
        assert answer.status_code == 400, (name, value)
        assert answer.json()["field"] == name
    assert root.post_json(path, sealed).status_code == 200


def test_a_lookup_id_already_used_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    first = root.prepare_invitation(Role.FACILITATOR)
    _code, sealed = root.seal_for(first, Role.FACILITATOR)
    first_seal = root.post_json(f"/api/invitations/{first['invitation_id']}/seal", sealed)
    assert first_seal.status_code == 200
    second = root.prepare_invitation(Role.FACILITATOR)
    answer = root.post_json(f"/api/invitations/{second['invitation_id']}/seal", sealed)
    assert answer.status_code == 409


def test_an_expired_or_withdrawn_reservation_is_not_sealed(portal: Portal) -> None:
    root = portal.service_root()
    expired = root.prepare_invitation(Role.FACILITATOR)
    withdrawn = root.prepare_invitation(Role.FACILITATOR)
    with portal.db() as db:
        db.execute(
            update(Invitation)
            .where(Invitation.id == expired["invitation_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
    revoked = root.post_form(f"/staff/invitations/{withdrawn['invitation_id']}/revoke")
    assert revoked.status_code == 303
    for prepared in (expired, withdrawn):
        _code, sealed = root.seal_for(prepared, Role.FACILITATOR)
        answer = root.post_json(f"/api/invitations/{prepared['invitation_id']}/seal", sealed)
        assert answer.status_code == 410


def test_sealing_a_participants_invitation_withdraws_the_earlier_one(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    participant_id = _new_participant(world)
    first = world.facilitator.invite(Role.PARTICIPANT, participant_id, world.case_id)
    second = world.facilitator.invite(Role.PARTICIPANT, participant_id, world.case_id)
    found = protocol.invitation_secrets(protocol.decode_invitation_code(first))
    stale = portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id})
    assert stale.status_code == 410
    joined = portal.visitor().join_invited(second)
    assert joined.role == "participant"


# -- joining --------------------------------------------------------------------------------


def test_join_start_serves_the_mac_fields_the_inviter_signed_for(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    participant_id = _new_participant(world)
    code = world.facilitator.invite(Role.PARTICIPANT, participant_id, world.case_id)

    found, invitation = _start(portal.visitor(), code)

    fields = {name: invitation[name] for name in INVITATION_MAC_FIELDS}
    protocol.check_invitation_mac(found.mac_key, fields, protocol.b64decode(invitation["mac"]))
    assert fields["case_id"] == world.case_id
    assert fields["participant_id"] == participant_id
    assert fields["inviter_account_id"] == world.facilitator.account_id
    assert fields["inviter_signing_public_key"] == b64(world.facilitator.signing_public_key)
    assert fields["root_account_id"] == portal.service_root().account_id
    assert invitation["role_label"] == "Participant"
    assert set(invitation["kdf"]) == {"salt", "ops", "mem"}


def test_a_changed_field_fails_the_joiners_mac_check(portal: Portal) -> None:
    root = portal.service_root()
    code = root.invite(Role.FACILITATOR)
    found, invitation = _start(portal.visitor(), code)
    fields = {name: invitation[name] for name in INVITATION_MAC_FIELDS}
    # What a breached server could try: another role, another inviter key, another root.
    impostor = b64(protocol.signing_public_key_from_secret(protocol.generate_identity()[0]))
    for name, value in [
        ("role", "service_manager"),
        ("inviter_signing_public_key", impostor),
        ("root_signing_public_key", impostor),
    ]:
        with pytest.raises(protocol.DecryptionFailed):
            protocol.check_invitation_mac(
                found.mac_key, {**fields, name: value}, protocol.b64decode(invitation["mac"])
            )


def test_joining_with_the_redeem_proof_creates_the_promised_account(portal: Portal) -> None:
    root = portal.service_root()
    visitor = portal.visitor()
    found, invitation = _start(visitor, root.invite(Role.FACILITATOR))

    joined = visitor.post_json(
        "/api/join/complete", _complete_body(visitor, invitation, found.redeem_proof)
    )

    assert joined.status_code == 200, joined.text
    with portal.db() as db:
        account = db.get(Account, invitation["account_id"])
        assert account is not None
        assert account.role is Role.FACILITATOR
        assert account.signing_public_key == visitor.signing_public_key
        row = db.scalars(select(Invitation).where(Invitation.lookup_id == found.lookup_id)).one()
        assert row.redeemed_at is not None
    # Waiting to be certified by a service manager.
    assert visitor.account_id in root.get("/staff/certify").text


def test_the_lookup_id_may_come_with_the_redeem_proof(portal: Portal) -> None:
    root = portal.service_root()
    visitor = portal.visitor()
    found, invitation = _start(visitor, root.invite(Role.FACILITATOR))
    body = _complete_body(visitor, invitation, found.redeem_proof)
    other_found, _ = _start(portal.visitor(), root.invite(Role.FACILITATOR))
    # The proof of one invitation with the lookup id of another is refused.
    wrong = visitor.post_json("/api/join/complete", {**body, "lookup_id": other_found.lookup_id})
    assert wrong.status_code == 410
    right = visitor.post_json("/api/join/complete", {**body, "lookup_id": found.lookup_id})
    assert right.status_code == 200


def test_a_wrong_redeem_proof_is_refused_and_counted(portal: Portal) -> None:
    root = portal.service_root()
    visitor = portal.visitor()
    found, invitation = _start(visitor, root.invite(Role.FACILITATOR))
    # The lookup id is not a proof; nor is the hash the server keeps; nor a random value.
    stored_hash = protocol.invitation_redeem_hash(found.redeem_proof)
    for wrong in (bytes.fromhex(found.lookup_id) * 2, stored_hash, b"\x07" * 32):
        answer = visitor.post_json("/api/join/complete", _complete_body(visitor, invitation, wrong))
        assert answer.status_code == 410
        assert "not valid" in answer.json()["error"]
    with portal.db() as db:
        assert db.get(Account, invitation["account_id"]) is None
    # The right proof still works (three wrong ones are under the address limit).
    body = _complete_body(visitor, invitation, found.redeem_proof)
    assert visitor.post_json("/api/join/complete", body).status_code == 200


def test_a_used_invitation_is_not_redeemed_again(portal: Portal) -> None:
    root = portal.service_root()
    visitor = portal.visitor()
    found, invitation = _start(visitor, root.invite(Role.FACILITATOR))
    body = _complete_body(visitor, invitation, found.redeem_proof)
    assert visitor.post_json("/api/join/complete", body).status_code == 200
    replay = portal.visitor().post_json(
        "/api/join/complete", {**body, "sign_in_name": "someone else"}
    )
    assert replay.status_code == 410
    assert (
        portal.visitor().post_json("/api/join/start", {"lookup_id": found.lookup_id}).status_code
        == 410
    )


def test_an_expired_invitation_is_refused_at_both_steps(portal: Portal) -> None:
    root = portal.service_root()
    visitor = portal.visitor()
    found, invitation = _start(visitor, root.invite(Role.FACILITATOR))
    body = _complete_body(visitor, invitation, found.redeem_proof)
    with portal.db() as db:
        db.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert visitor.post_json("/api/join/start", {"lookup_id": found.lookup_id}).status_code == 410
    assert visitor.post_json("/api/join/complete", body).status_code == 410


def test_joining_by_proof_needs_the_signing_key(portal: Portal) -> None:
    root = portal.service_root()
    visitor = portal.visitor()
    found, invitation = _start(visitor, root.invite(Role.FACILITATOR))
    body = _complete_body(visitor, invitation, found.redeem_proof)
    del body["signing_public_key"]
    answer = visitor.post_json("/api/join/complete", body)
    assert answer.status_code == 400
    assert answer.json()["field"] == "signing_public_key"


def test_join_fields_are_checked(portal: Portal) -> None:
    visitor = portal.visitor()
    for start in (
        {"lookup_id": "Z" * 32},
        {"lookup_id": "0" * 33},
        {"lookup_id": 7},
        {"lookup_id": "0" * 32, "code": "AAAA-BBBB-CCCC-DDDD"},
    ):
        assert visitor.post_json("/api/join/start", start).status_code == 400, start
    # A well-formed lookup id that names nothing: the one refusal for every unusable code.
    assert visitor.post_json("/api/join/start", {"lookup_id": "0" * 32}).status_code == 410
    complete = {"redeem_proof": b64(b"\x01" * 31), "sign_in_name": "x"}
    assert visitor.post_json("/api/join/complete", complete).status_code == 400


def test_a_reserved_but_unsealed_invitation_cannot_be_used(portal: Portal) -> None:
    root = portal.service_root()
    prepared = root.prepare_invitation(Role.FACILITATOR)
    page = root.get("/staff/invitations").text
    assert "Not finished" in page
    with portal.db() as db:
        invitation = db.get(Invitation, prepared["invitation_id"])
        assert invitation is not None
        assert (invitation.lookup_id, invitation.redeem_proof_hash, invitation.mac) == (
            None,
            None,
            None,
        )


def test_server_made_codes_still_work_beside_browser_made_ones(portal: Portal) -> None:
    root = portal.service_root()
    old = portal.visitor().join(portal.invitation_code(root, Role.FACILITATOR))
    new = portal.visitor().join_invited(root.invite(Role.FACILITATOR))
    assert old.role == new.role == "facilitator"
    # A server-made code is not a lookup id, and a browser-made code is not a server code.
    code = root.invite(Role.FACILITATOR)
    assert portal.visitor().post_json("/api/join/start", {"code": code}).status_code == 410


def test_nothing_that_makes_or_redeems_an_invitation_reaches_the_database(
    portal: Portal, settings: Settings
) -> None:
    world = CaseWorld.build(portal)
    participant_id = _new_participant(world)
    prepared = world.facilitator.prepare_invitation(Role.PARTICIPANT, participant_id)
    code_text, sealed = world.facilitator.seal_for(
        prepared, Role.PARTICIPANT, participant_id, world.case_id
    )
    answer = world.facilitator.post_json(
        f"/api/invitations/{prepared['invitation_id']}/seal", sealed
    )
    assert answer.status_code == 200
    code = protocol.decode_invitation_code(code_text)
    found = protocol.invitation_secrets(code)
    portal.visitor().join_invited(code_text)

    needles = {
        "code": code,
        "code text": code_text.encode(),
        "code text without dashes": code_text.replace("-", "").encode(),
        "redeem proof": found.redeem_proof,
        "MAC key": found.mac_key,
        # Not vacuous: what the server keeps on purpose is found.
        "lookup id (kept on purpose)": found.lookup_id.encode(),
        "redeem proof hash (kept on purpose)": protocol.invitation_redeem_hash(found.redeem_proof),
    }
    hits = leaks.find(needles, settings.database_url, [settings.data_dir])
    leaked = [hit for hit in hits if "kept on purpose" not in hit]
    assert leaked == []
    assert "lookup id (kept on purpose) in the database" in hits
    assert "redeem proof hash (kept on purpose) in the database" in hits
