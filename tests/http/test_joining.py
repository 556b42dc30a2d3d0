"""Joining with a setup link or an invitation code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from portal import protocol
from portal.accounts.models import Account, Role
from portal.db import utcnow
from portal.invitations.models import Invitation
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal


def test_setup_code_creates_signed_in_service_manager(portal: Portal) -> None:
    manager = portal.service_manager()
    assert manager.role == "service_manager"
    assert manager.get("/home").status_code == 200
    assert manager.get("/staff/invitations").status_code == 200


def test_join_stores_only_public_material(portal: Portal) -> None:
    manager = portal.service_manager()
    with portal.db() as db:
        account = db.scalars(select(Account).where(Account.id == manager.account_id)).one()
        assert account.public_key == manager.public_key
        assert manager.secret_key not in account.key_bundle
        # The stored bundle opens only with the wrap key derived from the password.
        keys = protocol.derive_account_keys(
            manager.password, account.kdf_salt, account.kdf_ops, account.kdf_mem
        )
        unwrapped = protocol.unwrap_secret_key(keys.wrap_key, account.id, account.key_bundle)
        assert unwrapped == manager.secret_key
        assert account.auth_hash.startswith("$argon2id$")


def test_invitation_code_works_once(portal: Portal) -> None:
    manager = portal.service_manager()
    code = portal.invitation_code(manager, Role.FACILITATOR)
    portal.visitor().join(code)
    again = portal.visitor().post_json("/api/join/start", {"code": code})
    assert again.status_code == 410
    assert "already been used" in again.json()["error"]


def test_expired_invitation_is_refused(portal: Portal) -> None:
    manager = portal.service_manager()
    code = portal.invitation_code(manager, Role.FACILITATOR)
    with portal.db() as db:
        db.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    response = portal.visitor().post_json("/api/join/start", {"code": code})
    assert response.status_code == 410


def test_withdrawn_invitation_is_refused(portal: Portal) -> None:
    manager = portal.service_manager()
    portal.invitation_code(manager, Role.FACILITATOR)
    with portal.db() as db:
        invitation_id = db.scalars(
            select(Invitation.id).where(Invitation.created_by_id.is_not(None))
        ).one()
    revoked = manager.post_form(f"/staff/invitations/{invitation_id}/revoke")
    assert revoked.status_code == 303
    listing = manager.get("/staff/invitations")
    assert "Withdrawn" in listing.text


def test_code_is_typed_loosely(portal: Portal) -> None:
    manager = portal.service_manager()
    code = portal.invitation_code(manager, Role.FACILITATOR)
    sloppy = code.lower().replace("-", " ")
    response = portal.visitor().post_json("/api/join/start", {"code": sloppy})
    assert response.status_code == 200
    assert response.json()["role_label"] == "Facilitator"


def test_taken_name_is_refused_and_invitation_stays_usable(portal: Portal) -> None:
    manager = portal.service_manager()
    code = portal.invitation_code(manager, Role.FACILITATOR)
    newcomer = portal.visitor()
    newcomer.name = manager.name.upper()
    started = newcomer.post_json("/api/join/start", {"code": code}).json()
    newcomer.account_id = started["account_id"]
    newcomer.password = "another password here"
    newcomer.secret_key, newcomer.public_key = protocol.generate_identity()
    newcomer.recovery_key = protocol.generate_recovery_key()
    kdf = started["kdf"]
    keys = protocol.derive_account_keys(
        newcomer.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    taken = newcomer.post_json("/api/join/complete", newcomer.join_body(code, keys))
    assert taken.status_code == 409
    assert taken.json()["field"] == "sign_in_name"
    # Nothing was half-written: the same code still works with another name.
    newcomer.name = "a different name"
    assert (
        newcomer.post_json("/api/join/complete", newcomer.join_body(code, keys)).status_code == 200
    )


def test_malformed_join_fields_get_clear_400(portal: Portal) -> None:
    manager = portal.service_manager()
    code = portal.invitation_code(manager, Role.FACILITATOR)
    visitor = portal.visitor()
    body = {
        "code": code,
        "sign_in_name": "someone",
        "public_key": "not base64!",
        "auth_key": "x",
        "bundle": "x",
        "recovery_auth": "x",
        "recovery_bundle": "x",
    }
    response = visitor.post_json("/api/join/complete", body)
    assert response.status_code == 400
    assert response.json()["field"] == "public_key"
    assert visitor.post_json("/api/join/start", {"code": code}).status_code == 200


def test_staff_roles_cannot_be_invited_by_facilitator(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    response = facilitator.post_json("/api/invitations/prepare", {"role": "service_manager"})
    assert response.status_code in {400, 403}
    # A supporter's invitation is made for their place in a case, from its case page.
    placeless = facilitator.post_json("/api/invitations/prepare", {"role": "supporter"})
    assert placeless.status_code == 400
    assert placeless.json()["field"] == "supporter_id"


def test_the_server_makes_no_invitation_code_any_more(portal: Portal) -> None:
    """Codes are made in the inviter's browser (docs/api-trust.md): the routes where the server
    made one are gone, for staff and for participants."""
    world = CaseWorld.build(portal)
    manager = portal.service_manager()
    for person, path in [
        (manager, "/staff/invitations"),
        (world.facilitator, "/staff/invitations"),
        (
            world.facilitator,
            f"/api/cases/{world.case_id}/participants/{world.participant_id(world.harmed)}"
            "/invitation",
        ),
    ]:
        refused = person.post_form(path, {"role": "facilitator"})
        assert refused.status_code in {404, 405}, (path, refused.status_code)
    with portal.db() as db:
        made = db.scalars(select(Invitation).where(Invitation.code_hash.is_not(None))).all()
        assert all(i.purpose.value == "setup" for i in made)


def _holding_a_code(portal: Portal) -> tuple[Person, str, protocol.AccountKeys]:
    """Someone with an unused invitation code, keys made, ready to try sign-in names."""
    manager = portal.service_manager()
    code = portal.invitation_code(manager, Role.FACILITATOR)
    newcomer = portal.visitor()
    started = newcomer.post_json("/api/join/start", {"code": code}).json()
    newcomer.account_id = started["account_id"]
    newcomer.secret_key, newcomer.public_key = protocol.generate_identity()
    newcomer.recovery_key = protocol.generate_recovery_key()
    kdf = started["kdf"]
    keys = protocol.derive_account_keys(
        "a password long enough", protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    return newcomer, code, keys


def test_one_code_cannot_be_used_to_list_sign_in_names(portal: Portal) -> None:
    newcomer, code, keys = _holding_a_code(portal)
    taken = [portal.person(Role.PARTICIPANT).name for _ in range(6)]
    answers = []
    for name in taken:
        newcomer.name = name
        answers.append(newcomer.post_json("/api/join/complete", newcomer.join_body(code, keys)))
    assert [a.status_code for a in answers[:5]] == [409] * 5
    # The sixth guess is not answered at all, whatever the name: the code must wait.
    assert answers[5].status_code == 429
    assert "too many attempts to join" in answers[5].json()["error"]
    newcomer.name = "a name nobody has"
    assert (
        newcomer.post_json("/api/join/complete", newcomer.join_body(code, keys)).status_code == 429
    )


def test_wrong_codes_from_one_address_must_wait(portal: Portal) -> None:
    guesser = portal.visitor()
    statuses = [
        guesser.post_json("/api/join/start", {"code": f"WRONG-CODE-{i:04d}"}).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [410] * 20
    assert statuses[20] == 429


def test_a_bad_code_says_nothing_about_the_name(portal: Portal) -> None:
    newcomer, _code, keys = _holding_a_code(portal)
    newcomer.name = portal.service_manager().name
    refused = newcomer.post_json("/api/join/complete", newcomer.join_body("NOT-THE-CODE", keys))
    assert refused.status_code == 410
    assert "field" not in refused.json() or refused.json()["field"] != "sign_in_name"
