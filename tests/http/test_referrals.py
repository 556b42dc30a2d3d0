"""Referrals (issue 12, item 1): the service's referral key set up in a service manager's
browser, given to further managers and designated facilitators, and referrals from the public
pages kept as ciphertext only. portal/referrals/, docs/api-referrals.md."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from portal import protocol
from portal.accounts.models import Role, SignInFailure
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.referrals import rules, services
from portal.referrals.models import Referral, ReferralKeyGrant, ReferralReader
from portal.settings import Settings
from tests.factories import Person, Portal
from tests.support import leaks
from tests.support.env import portal_env

b64 = protocol.b64encode
CLOSED = "Please phone 0123 456 789 to refer someone."


@pytest.fixture
def settings_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return {
        **portal_env(data_dir=data_dir, database_url=database_url, base_url="http://testserver"),
        "PORTAL_REFERRALS_PER_ADDRESS": "3",
        "PORTAL_REFERRALS_PER_WINDOW": "5",
        "PORTAL_REFERRALS_CLOSED_TEXT": CLOSED,
    }


@dataclass
class Service:
    manager: Person
    key_id: str
    secret_key: bytes
    public_key: bytes


def key_body(manager: Person, **changes: Any) -> tuple[dict[str, Any], bytes]:
    """What a manager's browser sends to set up referrals, and the key's secret half."""
    secret, public = protocol.generate_identity()
    key_id = str(uuid.uuid4())
    statement, signature = protocol.sign_referral_key(
        manager.signing_secret,
        {
            "key_id": key_id,
            "referral_public_key": b64(public),
            "issued_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "issuer_account_id": manager.account_id,
        },
    )
    grant = protocol.make_referral_key_grant(manager.secret_key, manager.public_key, key_id, secret)
    body = {
        "key_id": key_id,
        "referral_public_key": b64(public),
        "statement": b64(statement),
        "signature": b64(signature),
        "grant": b64(grant),
        **changes,
    }
    return body, secret


def set_up(portal: Portal) -> Service:
    manager = portal.service_manager()
    body, secret = key_body(manager)
    response = manager.post_json("/referrals/key", body)
    assert response.status_code == 201, response.text
    return Service(manager, body["key_id"], secret, protocol.public_key_from_secret(secret))


def send(
    person: Person, service: Service, form: dict[str, object] | None = None, **changes: Any
) -> httpx.Response:
    sealed = protocol.seal_referral(
        service.public_key, service.key_id, form or {"form": "agency", "person_name": "Sam"}
    )
    body = {
        "channel": "agency",
        "source": "police",
        "key_id": service.key_id,
        "ciphertext": b64(sealed),
        **changes,
    }
    return person.post_json("/api/referrals", body)


def grant_to(service: Service, person: Person) -> dict[str, str]:
    grant = protocol.make_referral_key_grant(
        service.manager.secret_key, person.public_key, service.key_id, service.secret_key
    )
    return {"account_id": person.account_id, "grant": b64(grant)}


# ---------------------------------------------------------------------------- the public pages


def test_without_a_key_the_pages_say_the_service_is_not_taking_referrals(portal: Portal) -> None:
    visitor = portal.visitor()
    for path in ("/refer", "/refer/self"):
        page = visitor.get(path)
        assert page.status_code == 200
        assert CLOSED in page.text
        assert 'data-seal="referral"' not in page.text
    assert visitor.get("/api/referrals/key").json()["key"] is None
    refused = visitor.post_json(
        "/api/referrals",
        {
            "channel": "self",
            "key_id": str(uuid.uuid4()),
            "ciphertext": b64(bytes(protocol.referral_sealed_sizes()[0])),
        },
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "The service is not taking referrals online at the moment."


def test_with_a_key_the_pages_offer_the_form_and_serve_the_key_with_the_trust_log(
    portal: Portal,
) -> None:
    service = set_up(portal)
    visitor = portal.visitor()
    for path in ("/refer", "/refer/self"):
        page = visitor.get(path)
        assert 'data-seal="referral"' in page.text
        assert CLOSED not in page.text
    served = visitor.get("/api/referrals/key").json()
    assert served["key"]["key_id"] == service.key_id
    assert served["key"]["signer_account_id"] == service.manager.account_id
    fields = protocol.open_referral_key(
        service.manager.signing_public_key,
        protocol.b64decode(served["key"]["statement"]),
        protocol.b64decode(served["key"]["signature"]),
    )
    assert fields["referral_public_key"] == b64(service.public_key)
    assert served["root"]["account_id"] == service.manager.account_id
    assert len(served["log"]) >= 1


def test_a_referral_is_kept_as_ciphertext_with_its_channel_source_and_reference(
    portal: Portal,
) -> None:
    service = set_up(portal)
    form: dict[str, object] = {"form": "agency", "person_name": "Sam", "risks": "none"}
    response = send(portal.visitor(), service, form, source="probation")
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]
    assert rules.is_reference(reference)
    with portal.db() as db:
        referral = db.scalars(select(Referral)).one()
        assert (referral.reference, referral.channel.value, referral.source.value) == (
            reference,
            "agency",
            "probation",
        )
        assert b"Sam" not in referral.ciphertext
        assert protocol.open_referral(service.secret_key, service.key_id, referral.ciphertext) == (
            form
        )
        audit = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == referral.id)).one()
        assert (audit.tag, audit.actor_id) == ("referral:received", None)


def test_a_self_referral_is_always_from_the_person_themself(portal: Portal) -> None:
    service = set_up(portal)
    response = send(portal.visitor(), service, channel="self", source="police")
    assert response.status_code == 201, response.text
    with portal.db() as db:
        referral = db.scalars(select(Referral)).one()
        assert (referral.channel.value, referral.source.value) == ("self", "self")


def test_the_htmx_answer_is_the_confirmation_with_the_reference(portal: Portal) -> None:
    service = set_up(portal)
    visitor = portal.visitor()
    sealed = protocol.seal_referral(service.public_key, service.key_id, {"form": "self"})
    response = visitor.request(
        "POST",
        "/api/referrals",
        json={"channel": "self", "key_id": service.key_id, "ciphertext": b64(sealed)},
        headers={"X-CSRF-Token": visitor.csrf(), "HX-Request": "true"},
    )
    assert response.status_code == 200
    with portal.db() as db:
        reference = db.scalars(select(Referral.reference)).one()
    assert reference in response.text
    assert "What happens next" in response.text


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"channel": "fax"}, 400, "channel"),
        ({"source": "self"}, 400, "source"),  # an agency is never "self"
        ({"source": "neighbour"}, 400, "source"),
        ({"key_id": "not-an-id"}, 400, "key_id"),
        ({"ciphertext": "not base64!"}, 400, "ciphertext"),
        ({"ciphertext": b64(bytes(100))}, 400, "ciphertext"),  # not a sealed size
        ({"ciphertext": b64(bytes(services.MAX_SEALED + 1))}, 413, "ciphertext"),
        ({"ciphertext": "A" * 200_000}, 413, "ciphertext"),
    ],
)
def test_a_malformed_or_oversized_referral_is_refused_with_a_sentence_and_nothing_is_kept(
    portal: Portal, changes: dict[str, Any], status: int, field: str
) -> None:
    service = set_up(portal)
    response = send(portal.visitor(), service, **changes)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
    assert response.json()["error"].endswith(".")
    with portal.db() as db:
        assert db.scalars(select(Referral)).all() == []


def test_a_referral_sealed_to_an_old_key_id_asks_to_reload(portal: Portal) -> None:
    service = set_up(portal)
    response = send(portal.visitor(), service, key_id=str(uuid.uuid4()))
    assert response.status_code == 409
    assert "reload the page" in response.json()["error"]


def test_one_address_is_throttled_after_its_limit_with_a_clear_429(portal: Portal) -> None:
    service = set_up(portal)
    visitor = portal.visitor()
    for _ in range(3):
        assert send(visitor, service).status_code == 201
    refused = send(visitor, service)
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Too many referrals have been sent")
    assert int(refused.headers["Retry-After"]) > 0
    with portal.db() as db:
        assert len(db.scalars(select(Referral)).all()) == 3


def test_the_whole_service_is_throttled_after_its_limit(portal: Portal, settings: Settings) -> None:
    service = set_up(portal)
    with portal.db() as db:  # five referrals from elsewhere in the window
        key = protocol.token_hash(settings.secret_key.reveal(), "throttle-referral:service")
        for _ in range(5):
            db.add(SignInFailure(scope=services.PER_SERVICE, key_hash=key, at=utcnow()))
        db.commit()
    assert send(portal.visitor(), service).status_code == 429


# ------------------------------------------------------------------- setting up the key


def test_only_a_certified_service_manager_sets_up_referrals_once(portal: Portal) -> None:
    portal.service_root()
    uncertified = portal.visitor().join(portal.setup_code())
    body, _ = key_body(uncertified)
    refused = uncertified.post_json("/referrals/key", body)
    assert refused.status_code == 409
    assert "certified service manager" in refused.json()["error"]
    facilitator = portal.person(Role.FACILITATOR)
    assert facilitator.post_json("/referrals/key", key_body(facilitator)[0]).status_code == 403
    service = set_up(portal)
    again, _ = key_body(service.manager)
    assert service.manager.post_json("/referrals/key", again).status_code == 409


@pytest.mark.parametrize("what", ["other-signer", "other-key", "bad-grant", "other-kind"])
def test_a_key_whose_statement_or_grant_is_wrong_is_refused(portal: Portal, what: str) -> None:
    manager = portal.service_manager()
    body, _ = key_body(manager)
    if what == "other-signer":
        other = portal.service_manager()
        body = {**body, **{k: key_body(other)[0][k] for k in ("statement", "signature")}}
    elif what == "other-key":
        body["referral_public_key"] = b64(protocol.generate_identity()[1])
    elif what == "bad-grant":
        body["grant"] = b64(bytes(100))
    else:
        body.update(manager.case_key_statement(str(uuid.uuid4()), protocol.generate_identity()[1]))
    response = manager.post_json("/referrals/key", body)
    assert response.status_code == 400, response.text
    with portal.db() as db:
        assert db.scalars(select(ReferralKeyGrant)).all() == []


def test_setting_up_is_audited_by_ids_only(portal: Portal) -> None:
    service = set_up(portal)
    with portal.db() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "referral:key-created")).one()
        assert (event.actor_id, event.subject_id) == (service.manager.account_id, service.key_id)


# ------------------------------------------------------------------------ who holds the key


def test_a_designated_facilitator_gets_the_key_and_loses_it_at_once_when_removed(
    portal: Portal,
) -> None:
    service = set_up(portal)
    facilitator = portal.person(Role.FACILITATOR)
    assert facilitator.get("/api/referrals/my-grant").status_code == 404
    assert "referrals-inbox-link" not in facilitator.get("/home").text
    given = service.manager.post_json("/referrals/access", grant_to(service, facilitator))
    assert given.status_code == 200, given.text
    # Their home links to the referrals they may now read.
    assert 'id="referrals-inbox-link"' in facilitator.get("/home").text
    mine = facilitator.get("/api/referrals/my-grant").json()
    assert mine["key"]["key_id"] == service.key_id
    assert mine["sender_account_id"] == service.manager.account_id
    opened = protocol.open_referral_key_grant(
        facilitator.secret_key,
        protocol.b64decode(mine["sender_public_key"]),
        service.key_id,
        protocol.b64decode(mine["grant"]),
    )
    assert opened == service.secret_key
    page = service.manager.get("/referrals").text
    assert f'id="remove-reader-{facilitator.account_id}"' in page

    removed = service.manager.post_json(f"/referrals/readers/{facilitator.account_id}/remove")
    assert removed.status_code == 200
    assert facilitator.get("/api/referrals/my-grant").status_code == 404
    assert "referrals-inbox-link" not in facilitator.get("/home").text
    with portal.db() as db:
        assert db.get(ReferralReader, facilitator.account_id) is None
        assert (
            db.scalars(
                select(ReferralKeyGrant).where(
                    ReferralKeyGrant.account_id == facilitator.account_id
                )
            ).all()
            == []
        )
        tags = set(
            db.scalars(
                select(AuditEvent.tag).where(AuditEvent.subject_id == facilitator.account_id)
            )
        )
    assert {"referral:reader-designated", "referral:reader-removed"} <= tags
    again = service.manager.post_json(f"/referrals/readers/{facilitator.account_id}/remove")
    assert again.status_code == 404


def test_a_further_service_manager_is_given_the_key_without_a_designation(portal: Portal) -> None:
    service = set_up(portal)
    colleague = portal.service_manager()
    assert colleague.get("/api/referrals/my-grant").status_code == 404
    assert (
        service.manager.post_json("/referrals/access", grant_to(service, colleague)).status_code
        == 200
    )
    assert colleague.get("/api/referrals/my-grant").status_code == 200
    with portal.db() as db:
        assert db.get(ReferralReader, colleague.account_id) is None
    # and they can now give it on, as the first one did
    facilitator = portal.person(Role.FACILITATOR)
    theirs = Service(colleague, service.key_id, service.secret_key, service.public_key)
    assert (
        colleague.post_json("/referrals/access", grant_to(theirs, facilitator)).status_code == 200
    )


def test_the_key_goes_only_to_certified_staff_and_only_from_a_holder(portal: Portal) -> None:
    service = set_up(portal)
    participant = portal.person(Role.PARTICIPANT)
    refused = service.manager.post_json("/referrals/access", grant_to(service, participant))
    assert refused.status_code == 409
    uncertified = portal.visitor().join_invited(service.manager.invite(Role.FACILITATOR))
    assert (
        service.manager.post_json("/referrals/access", grant_to(service, uncertified)).status_code
        == 409
    )
    facilitator = portal.person(Role.FACILITATOR)
    body = grant_to(service, facilitator)
    assert service.manager.post_json("/referrals/access", body).status_code == 200
    assert service.manager.post_json("/referrals/access", body).status_code == 409  # already
    # a manager who does not hold the key cannot give it
    colleague = portal.service_manager()
    other = portal.person(Role.FACILITATOR)
    theirs = Service(colleague, service.key_id, service.secret_key, service.public_key)
    not_holding = colleague.post_json("/referrals/access", grant_to(theirs, other))
    assert not_holding.status_code == 409
    assert "does not hold the referral key" in not_holding.json()["error"]
    # nor to nobody, nor to themself, nor with a grant of the wrong size
    assert (
        service.manager.post_json(
            "/referrals/access", {"account_id": str(uuid.uuid4()), "grant": body["grant"]}
        ).status_code
        == 404
    )
    assert (
        service.manager.post_json(
            "/referrals/access", {"account_id": other.account_id, "grant": b64(bytes(10))}
        ).status_code
        == 400
    )


def test_the_referrals_page_offers_what_each_manager_may_do_now(portal: Portal) -> None:
    manager = portal.service_manager()
    page = manager.get("/referrals").text
    assert 'id="set-up-referrals"' in page
    service = set_up(portal)
    facilitator = portal.person(Role.FACILITATOR)
    page = service.manager.get("/referrals").text
    assert 'id="set-up-referrals"' not in page
    assert f'value="{facilitator.account_id}"' in page
    colleague = portal.service_manager()
    theirs = colleague.get("/referrals").text
    assert "You do not hold the referral key yet" in theirs
    assert 'data-seal="referral-access"' not in theirs
    assert "/referrals" in service.manager.get("/home").text


# ------------------------------------------------------------------------------ the canary


def test_nothing_typed_reaches_the_database_logs_or_error_pages(
    portal: Portal, settings: Settings
) -> None:
    """The browser seals what is typed; here the sealed form (as the browser sends it) and a
    broken client sending a canary in clear where only choices go: refused, never echoed."""
    canary = f"canary-referral-{secrets.token_hex(8)}"
    service = set_up(portal)
    visitor = portal.visitor()
    form: dict[str, object] = {"form": "self", "name": canary, "message": canary}
    assert send(visitor, service, form, channel="self").status_code == 201
    for field in ("channel", "source", "key_id", "ciphertext"):
        changes: dict[str, Any] = {field: canary}
        refused = send(portal.visitor(), service, **changes)
        assert refused.status_code in (400, 413)
        assert canary not in refused.text
    needles = {"canary": canary.encode(), "key id (stored on purpose)": service.key_id.encode()}
    hits = leaks.find(needles, settings.database_url, [settings.data_dir])
    assert [hit for hit in hits if hit.startswith("canary")] == []
    assert any(hit.startswith("key id") for hit in hits)  # not vacuous


# ------------------------------------------------------------------------ the referrals inbox


def test_readers_see_referrals_newest_first_with_overdue_first_contact_marked(
    portal: Portal,
) -> None:
    service = set_up(portal)
    visitor = portal.visitor()
    old = send(visitor, service).json()["reference"]
    new = send(visitor, service, channel="self").json()["reference"]
    with portal.db() as db:
        row = db.scalars(select(Referral).where(Referral.reference == old)).one()
        row.received_at = utcnow() - timedelta(days=14)  # ten working days ago
        db.commit()
    page = service.manager.get("/referrals/inbox")
    assert page.status_code == 200
    assert page.text.index(new) < page.text.index(old)
    assert page.text.count("First contact is overdue.") == 1
    assert "10 working days ago" in page.text
    with portal.db() as db:
        referral_id = db.scalars(select(Referral.id).where(Referral.reference == old)).one()
    shown = service.manager.get(f"/referrals/received/{referral_id}")
    assert shown.status_code == 200
    assert 'data-page="referral"' in shown.text
    assert f'data-key-id="{service.key_id}"' in shown.text


def test_only_readers_reach_the_inbox_and_a_referral(portal: Portal) -> None:
    service = set_up(portal)
    send(portal.visitor(), service)
    with portal.db() as db:
        referral_id = db.scalars(select(Referral.id)).one()
    facilitator = portal.person(Role.FACILITATOR)
    paths = ("/referrals/inbox", f"/referrals/received/{referral_id}")
    for path in paths:
        assert facilitator.get(path).status_code == 404
    service.manager.post_json("/referrals/access", grant_to(service, facilitator))
    for path in paths:
        assert facilitator.get(path).status_code == 200
    service.manager.post_json(f"/referrals/readers/{facilitator.account_id}/remove")
    for path in paths:
        assert facilitator.get(path).status_code == 404
    assert portal.person(Role.PARTICIPANT).get(paths[0]).status_code in (403, 404)
