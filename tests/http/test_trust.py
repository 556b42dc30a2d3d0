"""The trust log over HTTP (docs/api-trust.md): the root at setup, signing keys, certifying staff
on the Certify page, revoking them when their account closes, handing the root over. Every
refusal keeps nothing."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from sqlalchemy import func, select

from portal import protocol
from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.trust.models import EntryKind, ServiceRoot, TrustLogEntry
from tests.factories import NOW, Person, Portal

b64 = protocol.b64encode


def _signed(statement: bytes, signature: bytes) -> dict[str, str]:
    return {"statement": b64(statement), "signature": b64(signature)}


def _log(portal: Portal) -> list[TrustLogEntry]:
    with portal.db() as db:
        return list(db.scalars(select(TrustLogEntry).order_by(TrustLogEntry.position)))


def _log_size(portal: Portal) -> int:
    with portal.db() as db:
        return int(db.scalar(select(func.count()).select_from(TrustLogEntry)) or 0)


def _staff_waiting(portal: Portal, manager: Person) -> Person:
    """A facilitator who joined with the manager's invitation and is not certified yet."""
    return portal.visitor().join_invited(manager.invite(Role.FACILITATOR))


# -- the root and GET /api/trust ------------------------------------------------------------


def test_setup_makes_the_first_service_manager_the_root_with_log_entry_0(portal: Portal) -> None:
    root = portal.service_root()

    with portal.db() as db:
        found = db.get(ServiceRoot, 1)
        assert found is not None
        assert (found.account_id, found.signing_public_key, found.log_position) == (
            root.account_id,
            root.signing_public_key,
            0,
        )
        tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == root.account_id))
        assert "trust:root-established" in list(tags)
    [entry] = _log(portal)
    assert (entry.position, entry.kind, entry.subject_account_id) == (
        0,
        EntryKind.STAFF_CERT,
        root.account_id,
    )


def test_trust_answers_the_root_and_a_log_every_browser_can_check(portal: Portal) -> None:
    root = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR, inviter=root)
    participant = portal.person(Role.PARTICIPANT, inviter=facilitator)

    answer = participant.get("/api/trust")

    assert answer.status_code == 200
    body = answer.json()
    assert body["root"] == {
        "account_id": root.account_id,
        "signing_public_key": b64(root.signing_public_key),
    }
    entries = [
        (
            protocol.b64decode(e["signer_signing_public_key"]),
            protocol.b64decode(e["statement"]),
            protocol.b64decode(e["signature"]),
        )
        for e in body["log"]
    ]
    # The hash chain of docs/protocol-v1.md holds, and each entry opens under its signer.
    count, head = protocol.trust_log_head(entries)
    assert count == 2
    assert protocol.verify_trust_log_extends(0, bytes(32), entries) == head
    first = protocol.open_staff_cert(*entries[0])
    assert first["account_id"] == first["issuer_account_id"] == root.account_id
    second = protocol.open_staff_cert(*entries[1])
    assert second["account_id"] == facilitator.account_id
    assert second["role"] == "facilitator"
    assert second["box_public_key"] == b64(facilitator.public_key)
    assert second["signing_public_key"] == b64(facilitator.signing_public_key)


def test_trust_needs_a_session(portal: Portal) -> None:
    portal.service_root()
    assert portal.visitor().get("/api/trust").status_code == 401


def test_a_service_without_a_root_answers_no_root_and_an_empty_log(portal: Portal) -> None:
    manager = portal.visitor().join(portal.setup_code())  # a browser made before trust anchors
    assert manager.get("/api/trust").json() == {"root": None, "log": []}


def test_setup_certificate_signed_with_another_key_is_refused_and_nothing_kept(
    portal: Portal,
) -> None:
    visitor = portal.visitor()
    code = portal.setup_code()
    started = visitor.post_json("/api/join/start", {"code": code}).json()
    visitor.name, visitor.password = "first manager", "a long enough password"
    visitor.account_id, visitor.role = started["account_id"], started["role"]
    kdf = started["kdf"]
    keys = protocol.derive_account_keys(
        visitor.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    visitor.secret_key, visitor.public_key = protocol.generate_identity()
    visitor.recovery_key = protocol.generate_recovery_key()
    body: dict[str, Any] = visitor.join_body(code, keys)
    impostor = Person(portal.http, secret_key=protocol.generate_identity()[0])
    impostor.account_id = visitor.account_id
    body["staff_cert"] = _signed(
        *impostor.sign_staff_cert(visitor.account_id, "service_manager", visitor)
    )

    refused = visitor.post_json("/api/join/complete", body)

    assert refused.status_code == 400
    assert refused.json()["field"] == "staff_cert"
    with portal.db() as db:
        assert db.get(Account, visitor.account_id) is None
        assert db.get(ServiceRoot, 1) is None
    # The same setup code still works with the right certificate.
    body["staff_cert"] = _signed(
        *visitor.sign_staff_cert(visitor.account_id, "service_manager", visitor)
    )
    assert visitor.post_json("/api/join/complete", body).status_code == 200
    assert _log_size(portal) == 1


def test_a_later_setup_does_not_make_another_root(portal: Portal) -> None:
    root = portal.service_root()
    later = portal.visitor().join(portal.setup_code(), as_root=True)

    with portal.db() as db:
        found = db.get(ServiceRoot, 1)
        assert found is not None
        assert found.account_id == root.account_id
    assert _log_size(portal) == 1
    # Its browser learns the real root from the trust log, and waits to be certified.
    assert later.get("/api/trust").json()["root"]["account_id"] == root.account_id


def test_join_complete_answers_the_root_to_pin(portal: Portal) -> None:
    root = portal.service_root()
    invited = portal.visitor()
    code = root.invite(Role.FACILITATOR)
    found = protocol.invitation_secrets(protocol.decode_invitation_code(code))
    started = invited.post_json("/api/join/start", {"lookup_id": found.lookup_id}).json()
    invited.name, invited.password = "newcomer", "a long enough password"
    invited.account_id, invited.role = started["account_id"], started["role"]
    kdf = started["kdf"]
    keys = protocol.derive_account_keys(
        invited.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    invited.secret_key, invited.public_key = protocol.generate_identity()
    invited.recovery_key = protocol.generate_recovery_key()
    body = invited.join_body("", keys)
    del body["code"]
    body["redeem_proof"] = b64(found.redeem_proof)

    joined = invited.post_json("/api/join/complete", body)

    assert joined.status_code == 200
    assert joined.json()["root"] == {
        "account_id": root.account_id,
        "signing_public_key": b64(root.signing_public_key),
    }
    assert joined.json()["signing_public_key"] == b64(invited.signing_public_key)


# -- signing keys ---------------------------------------------------------------------------


def test_an_account_from_before_trust_anchors_registers_its_signing_key_once(
    portal: Portal,
) -> None:
    root = portal.service_root()
    legacy = Person(portal.http, legacy=True).join(portal.invitation_code(root, Role.FACILITATOR))
    assert legacy.get("/api/session").json()["signing_public_key"] is None

    registered = legacy.post_json(
        "/api/account/signing-key", {"signing_public_key": b64(legacy.signing_public_key)}
    )

    assert registered.status_code == 200
    assert legacy.get("/api/session").json()["signing_public_key"] == b64(legacy.signing_public_key)
    assert legacy.sign_in()["signing_public_key"] == b64(legacy.signing_public_key)
    # Again with the same key: nothing changes. Another key: refused (certificates name it).
    same = legacy.post_json(
        "/api/account/signing-key", {"signing_public_key": b64(legacy.signing_public_key)}
    )
    assert same.status_code == 200
    other = protocol.signing_public_key_from_secret(protocol.generate_identity()[0])
    replaced = legacy.post_json("/api/account/signing-key", {"signing_public_key": b64(other)})
    assert replaced.status_code == 409
    with portal.db() as db:
        account = db.get(Account, legacy.account_id)
        assert account is not None
        assert account.signing_public_key == legacy.signing_public_key
        tags = list(
            db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == legacy.account_id))
        )
        assert tags.count("account:signing-key-registered") == 1


def test_a_signing_key_of_the_wrong_length_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    legacy = Person(portal.http, legacy=True).join(portal.invitation_code(root, Role.FACILITATOR))
    for wrong in (b"\x01" * 31, b"\x01" * 33, b""):
        answer = legacy.post_json("/api/account/signing-key", {"signing_public_key": b64(wrong)})
        assert answer.status_code == 400
    assert portal.visitor().post_json(
        "/api/account/signing-key", {"signing_public_key": b64(b"\x01" * 32)}
    ).status_code in {401, 403}


def test_security_numbers_cover_both_keys_once_there_is_a_signing_key(portal: Portal) -> None:
    root = portal.service_root()
    page = root.get("/account").text
    digits = protocol.identity_fingerprint_digits(root.public_key, root.signing_public_key)
    assert protocol.format_fingerprint(digits) in page
    legacy = Person(portal.http, legacy=True).join(portal.invitation_code(root, Role.FACILITATOR))
    box_only = protocol.format_fingerprint(protocol.fingerprint_digits(legacy.public_key))
    assert box_only in legacy.get("/account").text


# -- certifying -----------------------------------------------------------------------------


class CertifyRows(HTMLParser):
    """The Certify page's rows (data-certify-row) and which of them have a form."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str | None]] = {}
        self.with_form: set[str] = set()
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-certify-row" in found:
            self._current = found["data-account-id"]
            assert self._current is not None
            self.rows[self._current] = found
        if tag == "form" and found.get("data-seal") == "staff-cert" and self._current:
            self.with_form.add(self._current)

    @classmethod
    def of(cls, html: str) -> CertifyRows:
        parsed = cls()
        parsed.feed(html)
        return parsed


def test_certify_page_lists_waiting_staff_with_their_keys_as_data(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    participant = portal.person(Role.PARTICIPANT, inviter=portal.person(Role.FACILITATOR))

    page = root.get("/staff/certify")

    assert page.status_code == 200
    rows = CertifyRows.of(page.text)
    assert set(rows.rows) == {waiting.account_id}  # not the certified, not participants
    assert participant.account_id not in page.text
    row = rows.rows[waiting.account_id]
    assert row["data-role"] == "facilitator"
    assert row["data-box-public-key"] == b64(waiting.public_key)
    assert row["data-signing-public-key"] == b64(waiting.signing_public_key)
    assert rows.with_form == {waiting.account_id}


def test_the_service_managers_home_lists_who_awaits_certification(portal: Portal) -> None:
    root = portal.service_root()
    assert "data-awaiting-certification" not in root.get("/home").text
    waiting = _staff_waiting(portal, root)

    home = root.get("/home").text

    assert "Waiting for you to certify them" in home
    assert f'data-account-id="{waiting.account_id}"' in home
    assert "/staff/certify" in home
    root.request(
        "POST",
        "/api/trust/certificates",
        json=_signed(*root.sign_staff_cert(waiting.account_id, "facilitator", waiting)),
        headers={"X-CSRF-Token": root.csrf()},
    )
    assert "data-awaiting-certification" not in root.get("/home").text
    # A facilitator's home has no such list, even with someone waiting.
    waiting_too = _staff_waiting(portal, root)
    assert waiting_too.account_id not in waiting.get("/home").text


def test_certify_page_is_for_service_managers_only(portal: Portal) -> None:
    root = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR, inviter=root)
    assert facilitator.get("/staff/certify").status_code == 403
    assert portal.visitor().get("/staff/certify").status_code == 303


def test_certifying_appends_to_the_log_and_takes_the_row_away(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)

    answer = root.request(
        "POST",
        "/api/trust/certificates",
        json=_signed(*root.sign_staff_cert(waiting.account_id, "facilitator", waiting)),
        headers={"X-CSRF-Token": root.csrf(), "HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert 'id="certify-list"' in answer.text
    assert "Certified." in answer.text
    assert waiting.account_id not in CertifyRows.of(answer.text).rows
    log = _log(portal)
    assert [(e.position, e.subject_account_id) for e in log][-1] == (1, waiting.account_id)
    assert log[-1].signer_signing_public_key == root.signing_public_key


def test_certificate_json_answer_names_the_position(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    answer = root.certify(waiting)
    assert answer.status_code == 200
    assert answer.json() == {"position": 1, "account_id": waiting.account_id}


def test_a_certified_service_manager_certifies_too(portal: Portal) -> None:
    portal.service_root()
    manager = portal.service_manager()  # certified by the root
    waiting = _staff_waiting(portal, manager)
    assert manager.certify(waiting).status_code == 200
    assert _log(portal)[-1].signer_account_id == manager.account_id


def _refused_certificate(
    portal: Portal, signer: Person, body: dict[str, str], status: int
) -> dict[str, Any]:
    before = _log_size(portal)
    answer = signer.post_json("/api/trust/certificates", body)
    assert answer.status_code == status, answer.text
    assert _log_size(portal) == before
    refusal: dict[str, Any] = answer.json()
    return refusal


def test_a_bad_signature_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    statement, signature = root.sign_staff_cert(waiting.account_id, "facilitator", waiting)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    _refused_certificate(portal, root, _signed(statement, flipped), 400)
    changed = statement.replace(b"facilitator", b"facilitatoR")
    _refused_certificate(portal, root, _signed(changed, signature), 400)


def test_a_statement_signed_by_someone_else_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    # Signed by the waiting facilitator's key but sent by the root: not the root's signature.
    signed = _signed(*waiting.sign_staff_cert(waiting.account_id, "facilitator", waiting))
    refusal = _refused_certificate(portal, root, signed, 400)
    assert refusal["field"] == "statement"


def test_a_statement_naming_another_issuer_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    manager = portal.service_manager()
    waiting = _staff_waiting(portal, root)
    statement, signature = protocol.sign_staff_cert(
        root.signing_secret,
        {
            "account_id": waiting.account_id,
            "role": "facilitator",
            "box_public_key": b64(waiting.public_key),
            "signing_public_key": b64(waiting.signing_public_key),
            "issued_at": NOW,
            "issuer_account_id": manager.account_id,
        },
    )
    _refused_certificate(portal, root, _signed(statement, signature), 400)


def test_an_uncertified_service_manager_cannot_certify(portal: Portal) -> None:
    root = portal.service_root()
    uncertified = portal.visitor().join(portal.setup_code())
    waiting = _staff_waiting(portal, root)
    signed = _signed(*uncertified.sign_staff_cert(waiting.account_id, "facilitator", waiting))
    _refused_certificate(portal, uncertified, signed, 409)
    # Nor themself: only the root's chain counts.
    own = _signed(
        *uncertified.sign_staff_cert(uncertified.account_id, "service_manager", uncertified)
    )
    _refused_certificate(portal, uncertified, own, 409)
    rows = CertifyRows.of(uncertified.get("/staff/certify").text)
    assert uncertified.account_id in rows.rows
    assert rows.with_form == set()


def test_a_statement_for_another_account_or_other_keys_or_role_is_refused(
    portal: Portal,
) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    other = _staff_waiting(portal, root)
    # Another account's keys under this account's id.
    swapped = _signed(*root.sign_staff_cert(waiting.account_id, "facilitator", other))
    _refused_certificate(portal, root, swapped, 400)
    # The wrong role: a facilitator made a service manager.
    promoted = _signed(*root.sign_staff_cert(waiting.account_id, "service_manager", waiting))
    _refused_certificate(portal, root, promoted, 400)
    # A participant is not staff.
    participant = portal.person(Role.PARTICIPANT, inviter=portal.person(Role.FACILITATOR))
    not_staff = _signed(*root.sign_staff_cert(participant.account_id, "facilitator", participant))
    _refused_certificate(portal, root, not_staff, 404)


def test_a_replayed_certificate_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    signed = _signed(*root.sign_staff_cert(waiting.account_id, "facilitator", waiting))
    assert root.post_json("/api/trust/certificates", signed).status_code == 200
    _refused_certificate(portal, root, signed, 409)
    # The root's own certificate again, too.
    [entry, _] = _log(portal)
    _refused_certificate(portal, root, _signed(entry.statement, entry.signature), 409)


def test_another_kind_of_statement_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    revocation = root.sign_revocation(waiting)
    _refused_certificate(portal, root, revocation, 400)


def test_a_closed_account_is_not_certified(portal: Portal) -> None:
    root = portal.service_root()
    waiting = _staff_waiting(portal, root)
    assert root.post_form(f"/staff/people/{waiting.account_id}/disable").status_code == 303
    signed = _signed(*root.sign_staff_cert(waiting.account_id, "facilitator", waiting))
    _refused_certificate(portal, root, signed, 409)


def test_only_service_managers_post_certificates(portal: Portal) -> None:
    root = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR, inviter=root)
    waiting = _staff_waiting(portal, root)
    signed = _signed(*facilitator.sign_staff_cert(waiting.account_id, "facilitator", waiting))
    for caller, status in [
        (facilitator, 403),
        (portal.person(Role.PARTICIPANT, inviter=facilitator), 403),
        (portal.person(Role.SUPPORTER, inviter=facilitator), 403),
        (portal.visitor(), 401),
    ]:
        assert caller.post_json("/api/trust/certificates", signed).status_code == status
    assert _log_size(portal) == 2


def test_without_a_root_the_first_service_manager_certifies_themself(portal: Portal) -> None:
    first = portal.visitor().join(portal.setup_code())  # set up before trust anchors
    second = portal.visitor().join(portal.setup_code())
    # Only the first may become the root, and only with their own certificate.
    rows = CertifyRows.of(first.get("/staff/certify").text)
    assert rows.with_form == {first.account_id}
    assert CertifyRows.of(second.get("/staff/certify").text).with_form == set()
    own_second = _signed(*second.sign_staff_cert(second.account_id, "service_manager", second))
    _refused_certificate(portal, second, own_second, 409)
    of_second = _signed(*first.sign_staff_cert(second.account_id, "service_manager", second))
    _refused_certificate(portal, first, of_second, 409)

    own = _signed(*first.sign_staff_cert(first.account_id, "service_manager", first))
    assert first.post_json("/api/trust/certificates", own).status_code == 200

    assert first.get("/api/trust").json()["root"]["account_id"] == first.account_id
    assert first.post_json("/api/trust/certificates", of_second).status_code == 200


# -- revoking -------------------------------------------------------------------------------


def test_closing_with_a_revocation_appends_it(portal: Portal) -> None:
    root = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR, inviter=root)

    closed = root.post_json(
        f"/staff/people/{facilitator.account_id}/disable",
        {"revocation": root.sign_revocation(facilitator)},
    )

    assert closed.status_code in {200, 303}
    entry = _log(portal)[-1]
    assert (entry.kind, entry.subject_account_id) == (EntryKind.REVOCATION, facilitator.account_id)
    fields = protocol.open_revocation(root.signing_public_key, entry.statement, entry.signature)
    assert fields["reason"] == "disabled"
    with portal.db() as db:
        account = db.get(Account, facilitator.account_id)
        assert account is not None
        assert account.disabled_at is not None


def test_the_people_page_seals_closing_a_certified_account(portal: Portal) -> None:
    root = portal.service_root()
    certified = portal.person(Role.FACILITATOR, inviter=root)
    waiting = _staff_waiting(portal, root)
    page = root.get("/staff/people").text
    certified_row = page[page.index(f'data-account-id="{certified.account_id}"') :]
    certified_row = certified_row[: certified_row.index("</li>")]
    assert "data-certified" in certified_row
    assert 'data-seal="revocation"' in certified_row
    waiting_row = page[page.index(f'data-account-id="{waiting.account_id}"') :]
    waiting_row = waiting_row[: waiting_row.index("</li>")]
    assert "data-certified" not in waiting_row
    assert "data-seal" not in waiting_row


def test_closing_without_a_revocation_still_closes(portal: Portal) -> None:
    root = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR, inviter=root)
    assert root.post_form(f"/staff/people/{facilitator.account_id}/disable").status_code == 303
    assert _log(portal)[-1].kind is EntryKind.STAFF_CERT
    # The revocation can follow later.
    later = root.post_json(
        f"/staff/people/{facilitator.account_id}/disable",
        {"revocation": root.sign_revocation(facilitator, "left")},
    )
    assert later.status_code in {200, 303}
    assert _log(portal)[-1].kind is EntryKind.REVOCATION


def test_a_bad_revocation_keeps_the_account_open_and_the_log_unchanged(portal: Portal) -> None:
    root = portal.service_root()
    facilitator = portal.person(Role.FACILITATOR, inviter=root)
    other = portal.person(Role.FACILITATOR, inviter=root)
    uncertified = portal.visitor().join(portal.setup_code())
    never_certified = _staff_waiting(portal, root)
    bad: list[tuple[Person, Person, dict[str, str], int]] = [
        (root, facilitator, facilitator.sign_revocation(facilitator), 400),  # not root's key
        (root, facilitator, root.sign_revocation(other), 400),  # names another account
        (root, facilitator, {"statement": "AAAA", "signature": "AAAA"}, 400),
        (
            root,
            facilitator,
            _signed(*root.sign_staff_cert(facilitator.account_id, "facilitator", facilitator)),
            400,
        ),
        (uncertified, facilitator, uncertified.sign_revocation(facilitator), 409),
        (root, never_certified, root.sign_revocation(never_certified), 409),
    ]
    before = _log_size(portal)
    for manager, subject, revocation, status in bad:
        body = {"revocation": revocation}
        answer = manager.post_json(f"/staff/people/{subject.account_id}/disable", body)
        assert answer.status_code == status, (answer.text, status)
        with portal.db() as db:
            account = db.get(Account, subject.account_id)
            assert account is not None
            assert account.disabled_at is None
    assert _log_size(portal) == before
    # A revocation replayed onto another account, or twice, is refused too.
    revocation = root.sign_revocation(facilitator)
    assert (
        root.post_json(
            f"/staff/people/{facilitator.account_id}/disable", {"revocation": revocation}
        ).status_code
        == 303
    )
    again = root.post_json(
        f"/staff/people/{facilitator.account_id}/disable", {"revocation": revocation}
    )
    assert again.status_code == 409
    assert _log_size(portal) == before + 1


def test_the_root_cannot_be_revoked(portal: Portal) -> None:
    root = portal.service_root()
    manager = portal.service_manager()
    answer = manager.post_json(
        f"/staff/people/{root.account_id}/disable", {"revocation": manager.sign_revocation(root)}
    )
    assert answer.status_code == 409
    with portal.db() as db:
        account = db.get(Account, root.account_id)
        assert account is not None
        assert account.disabled_at is None


def test_a_revoked_service_manager_no_longer_certifies(portal: Portal) -> None:
    root = portal.service_root()
    manager = portal.service_manager()
    waiting = _staff_waiting(portal, root)
    assert (
        root.post_json(
            f"/staff/people/{manager.account_id}/disable",
            {"revocation": root.sign_revocation(manager)},
        ).status_code
        == 303
    )
    # Closed, so signed out; their statements no longer count either way.
    assert manager.certify(waiting).status_code == 401


# -- handing the root over ----------------------------------------------------------------------


def _root_row(portal: Portal) -> ServiceRoot:
    with portal.db() as db:
        root = db.get(ServiceRoot, 1)
        assert root is not None
        return root


def _refused_handover(
    portal: Portal, signer: Person, body: dict[str, str], status: int
) -> dict[str, Any]:
    before = (_log_size(portal), _root_row(portal).account_id)
    answer = signer.post_json("/api/trust/root-handover", body)
    assert answer.status_code == status, answer.text
    assert (_log_size(portal), _root_row(portal).account_id) == before
    refusal: dict[str, Any] = answer.json()
    return refusal


def test_the_root_hands_over_to_a_certified_service_manager(portal: Portal) -> None:
    root = portal.service_root()
    manager = portal.service_manager()

    answer = root.post_json("/api/trust/root-handover", root.sign_root_handover(manager))

    assert answer.status_code == 200, answer.text
    new_root = {
        "account_id": manager.account_id,
        "signing_public_key": b64(manager.signing_public_key),
    }
    assert answer.json() == {"position": 2, "root": new_root}
    # Every browser is served the new root, and the entry that makes it so.
    assert manager.get("/api/trust").json()["root"] == new_root
    entry = _log(portal)[-1]
    assert (entry.kind, entry.signer_account_id, entry.subject_account_id) == (
        EntryKind.ROOT_HANDOVER,
        root.account_id,
        manager.account_id,
    )
    row = _root_row(portal)
    assert (row.account_id, row.signing_public_key, row.log_position) == (
        manager.account_id,
        manager.signing_public_key,
        2,
    )
    with portal.db() as db:
        tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == manager.account_id))
        assert "trust:root-handed-over" in list(tags)


def test_after_the_hand_over_the_old_root_is_a_manager_the_new_root_may_close(
    portal: Portal,
) -> None:
    root = portal.service_root()
    manager = portal.service_manager()
    assert (
        root.post_json("/api/trust/root-handover", root.sign_root_handover(manager)).status_code
        == 200
    )

    # The old root can hand over nothing more; it still certifies as a certified manager.
    _refused_handover(portal, root, root.sign_root_handover(manager), 409)
    assert root.certify(_staff_waiting(portal, root)).status_code == 200
    # The new root certifies, and may now close the old root's account with a revocation.
    assert manager.certify(_staff_waiting(portal, manager)).status_code == 200
    closed = manager.post_json(
        f"/staff/people/{root.account_id}/disable", {"revocation": manager.sign_revocation(root)}
    )
    assert closed.status_code == 303
    assert _log(portal)[-1].kind == EntryKind.REVOCATION


def test_a_hand_over_by_anyone_but_the_root_is_refused(portal: Portal) -> None:
    portal.service_root()
    manager = portal.service_manager()
    other = portal.service_manager()
    refusal = _refused_handover(portal, manager, manager.sign_root_handover(other), 409)
    assert refusal == {"error": "Only the service's root can hand it over.", "field": "statement"}
    facilitator = portal.person(Role.FACILITATOR)
    answer = facilitator.post_json("/api/trust/root-handover", manager.sign_root_handover(other))
    assert answer.status_code == 403


def test_a_hand_over_to_someone_who_cannot_be_the_root_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    uncertified = portal.visitor().join(portal.setup_code())
    facilitator = portal.person(Role.FACILITATOR, inviter=root)
    revoked = portal.service_manager()
    assert (
        root.post_json(
            f"/staff/people/{revoked.account_id}/disable",
            {"revocation": root.sign_revocation(revoked)},
        ).status_code
        == 303
    )
    _refused_handover(portal, root, root.sign_root_handover(uncertified), 409)
    _refused_handover(portal, root, root.sign_root_handover(facilitator), 404)
    _refused_handover(portal, root, root.sign_root_handover(revoked), 409)
    _refused_handover(portal, root, root.sign_root_handover(root), 400)


def test_a_hand_over_naming_another_key_or_badly_signed_is_refused(portal: Portal) -> None:
    root = portal.service_root()
    manager = portal.service_manager()
    other = portal.service_manager()
    # The statement names someone else's signing key for the manager: refused.
    _refused_handover(portal, root, root.sign_root_handover(manager, other.signing_public_key), 400)
    # Signed by the manager's key but sent by the root.
    _refused_handover(portal, root, manager.sign_root_handover(other), 400)
    body = root.sign_root_handover(manager)
    signature = protocol.b64decode(body["signature"])
    flipped = b64(bytes([signature[0] ^ 1]) + signature[1:])
    _refused_handover(portal, root, {**body, "signature": flipped}, 400)
    # Another kind of statement under the root's key.
    _refused_handover(portal, root, root.sign_revocation(manager), 400)


def test_the_certify_page_offers_the_hand_over_to_the_root_only(portal: Portal) -> None:
    root = portal.service_root()
    manager = portal.service_manager()
    uncertified = portal.visitor().join(portal.setup_code())

    page = root.get("/staff/certify").text
    assert 'data-seal="root-handover"' in page
    assert f'data-root-candidate data-account-id="{manager.account_id}"' in page
    assert f'data-account-id="{uncertified.account_id}"\n' not in page
    assert f'value="{uncertified.account_id}"' not in page
    assert f'value="{root.account_id}"' not in page

    other = manager.get("/staff/certify").text
    assert 'data-seal="root-handover"' not in other
    assert "Only the root can hand the root over." in other

    answer = root.request(
        "POST",
        "/api/trust/root-handover",
        json=root.sign_root_handover(manager),
        headers={"X-CSRF-Token": root.csrf(), "HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert 'id="root-part"' in answer.text
    assert "is now the service's root" in answer.text
    assert 'data-seal="root-handover"' not in answer.text
