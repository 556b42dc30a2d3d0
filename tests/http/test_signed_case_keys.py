"""Signed case keys and named senders (docs/api-trust.md): the facilitator's browser signs the
case key it opens a case with; the server keeps the statement and serves it with the case key,
and names who sent every grant a participant opens."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from portal import protocol
from portal.accounts.models import Role
from portal.cases.models import Case, CaseKeyEpoch
from tests.cases_world import CaseWorld
from tests.factories import NOW, Person, Portal

b64 = protocol.b64encode


def _open_body(facilitator: Person) -> dict[str, Any]:
    case_id = str(uuid.uuid4())
    case_sk, case_pk = protocol.generate_identity()
    return {
        "case_id": case_id,
        "reference": f"RJ-{uuid.uuid4().hex[:6]}",
        "label": "Signed case key",
        "public_key": b64(case_pk),
        "grant": b64(
            protocol.make_case_grant(
                facilitator.secret_key, facilitator.public_key, case_id, case_sk
            )
        ),
        "case_key_statement": facilitator.case_key_statement(case_id, case_pk),
    }


def _cases(portal: Portal) -> tuple[int, int]:
    with portal.db() as db:
        return (
            int(db.scalar(select(func.count()).select_from(Case)) or 0),
            int(db.scalar(select(func.count()).select_from(CaseKeyEpoch)) or 0),
        )


def _check(statement: dict[str, Any], signer: Person) -> dict[str, object]:
    assert statement["signer_account_id"] == signer.account_id
    return protocol.open_case_key_epoch(
        signer.signing_public_key,
        protocol.b64decode(statement["statement"]),
        protocol.b64decode(statement["signature"]),
    )


def test_the_signed_case_key_is_served_with_the_case_key_and_the_participants_case(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)

    key = world.facilitator.get(f"/api/cases/{world.case_id}/key").json()
    fields = _check(key["case_key_statement"], world.facilitator)
    assert fields == {
        "case_id": world.case_id,
        "epoch": 1,
        "case_public_key": b64(world.case_pk),
        "issued_at": NOW,
        "issuer_account_id": world.facilitator.account_id,
    }
    assert key["sender_account_id"] == world.facilitator.account_id

    mine = world.harmed.get("/api/me/case").json()
    assert mine["case_key_statement"] == key["case_key_statement"]
    assert mine["grant_sender_account_id"] == world.facilitator.account_id
    # What the participant's browser checks: the granted key is the one the statement names.
    granted = world.case_key_as_seen_by(world.harmed)
    assert b64(granted) == _check(mine["case_key_statement"], world.facilitator)["case_public_key"]


def test_a_case_opened_without_a_statement_serves_none(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    body = _open_body(facilitator)
    del body["case_key_statement"]
    opened = facilitator.post_json("/api/cases", body)
    assert opened.status_code == 200, opened.text
    key = facilitator.get(f"/api/cases/{body['case_id']}/key").json()
    assert key["case_key_statement"] is None


def test_case_key_statements_that_do_not_fit_are_refused_and_no_case_is_opened(
    portal: Portal,
) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    colleague = portal.person(Role.FACILITATOR)
    before = _cases(portal)
    good = _open_body(facilitator)
    _sk, other_pk = protocol.generate_identity()
    statement = protocol.b64decode(good["case_key_statement"]["statement"])
    signature = protocol.b64decode(good["case_key_statement"]["signature"])
    bad = [
        # Another case, another key, another epoch, another issuer's name.
        facilitator.case_key_statement(str(uuid.uuid4()), protocol.b64decode(good["public_key"])),
        facilitator.case_key_statement(good["case_id"], other_pk),
        facilitator.case_key_statement(
            good["case_id"], protocol.b64decode(good["public_key"]), epoch=2
        ),
        # Signed by a colleague, not the facilitator who opens the case.
        colleague.case_key_statement(good["case_id"], protocol.b64decode(good["public_key"])),
        # A broken signature, changed bytes, another kind of statement, junk.
        {"statement": b64(statement), "signature": b64(bytes(64))},
        {
            "statement": b64(statement.replace(b'"epoch":1', b'"epoch":2')),
            "signature": b64(signature),
        },
        facilitator.sign_revocation(colleague),
        {"statement": "AAAA"},
        "not an object",
    ]
    for signed in bad:
        answer = facilitator.post_json("/api/cases", {**good, "case_key_statement": signed})
        assert answer.status_code == 400, (signed, answer.text)
        assert answer.json()["field"] == "case_key_statement"
    assert _cases(portal) == before
    assert facilitator.post_json("/api/cases", good).status_code == 200
    assert _cases(portal) == (before[0] + 1, before[1] + 1)


def test_case_keys_are_served_only_to_the_case(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    path = f"/api/cases/{world.case_id}/key"
    assert other.facilitator.get(path).status_code == 404
    assert world.harmed.get(path).status_code == 403
    assert other.harmed.get("/api/me/case").json()["case_id"] == other.case_id
    assert portal.service_root().get(path).status_code == 403


def test_content_grants_name_their_sender(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "A letter.")
    assert world.approve(message_id, note="A note for you.").status_code == 200

    note = world.harmed.get(f"/api/inbox/{message_id}/note").json()["note"]
    assert note["sender_account_id"] == world.facilitator.account_id
    assert note["sender_public_key"] == b64(world.facilitator.public_key)
    released = world.harmed.post_json(
        f"/api/inbox/{message_id}/open", {"author_may_see": False}
    ).json()
    assert released["sender_account_id"] == world.facilitator.account_id
    assert released["sender_public_key"] == b64(world.facilitator.public_key)
    review = world.facilitator.get(f"/api/messages/{message_id}/review")
    assert review.status_code == 200
