"""Bad input is never a 500, and a refusal changes nothing: every route, driven with arbitrary
JSON, strings and numbers by Hypothesis, as every kind of person.

One case with a submitted letter is built through the API; then each example picks a route from
the route table, fills its path with a real id or junk, sends a body of arbitrary JSON (often
with the field names the endpoints read, holding values of the wrong shape), a form, or raw
bytes, as a visitor, a service manager, the facilitator or a participant. After each request:
no 5xx, and when the answer is a refusal (4xx) nothing of what the portal keeps has changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from starlette.routing import Route

from portal import protocol
from portal.routes import routes
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal

# Everything the portal keeps that a refusal must leave alone. Not here: sessions (a request
# counts as activity), sign-in failures (a refused sign-in is counted on purpose: the throttle)
# and maintenance leases.
KEPT_TABLES = (
    "accounts",
    "vaults",
    "invitations",
    "cases",
    "case_facilitators",
    "case_key_grants",
    "participants",
    "content_objects",
    "content_versions",
    "content_chunks",
    "content_grants",
    "uploads",
    "upload_chunks",
    "messages",
    "message_events",
    "drafts",
    "audit_events",
    "trust_log",
    "service_root",
    "case_key_epochs",
)

# The field names the endpoints read (portal/*/schemas.py, views), so that arbitrary values
# reach the parsing code and the services behind it, not only the "missing field" refusal.
FIELD_NAMES = [
    "author_may_see",
    "bundle",
    "case_id",
    "chunks",
    "code",
    "csrf_token",
    "current_auth_key",
    "data",
    "draft_id",
    "feedback",
    "final",
    "format",
    "formats",
    "grant",
    "grant_to_author",
    "grant_to_case",
    "grant_to_person",
    "hash",
    "index",
    "kdf",
    "kind",
    "label",
    "length",
    "letter",
    "manifest",
    "manifest_hash",
    "may_read",
    "may_receive_notices",
    "may_write",
    "mem",
    "note",
    "object_id",
    "ops",
    "pages",
    "part",
    "participant_agreed",
    "participant_id",
    "public_key",
    "reason",
    "recipient_grant",
    "recipient_participant_id",
    "recovery_auth",
    "recovery_bundle",
    "reference",
    "revises_message_id",
    "role",
    "salt",
    "sealed_name",
    "supporter_id",
    "seconds",
    "side",
    "sign_in_name",
    "size",
    "status",
    "stored_chunks",
    "transcript",
    "transcript_label",
    "version",
    "auth_key",
    "blob",
    "declared_bytes",
    "verified_public_key",
    "case_public_grant",
    # Trust anchors (docs/api-trust.md)
    "statement",
    "signature",
    "signing_public_key",
    "staff_cert",
    "case_key_statement",
    "revocation",
    "lookup_id",
    "redeem_proof",
    "redeem_proof_hash",
    "mac",
    "message_id",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)  # includes lone surrogates and digits such as "²"
    | st.sampled_from(["", "0", "1", "²", "\ud800", "AAAA", "-1", "1e400", "letter", "open"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
json_bodies = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8)


@dataclass
class World:
    portal: Portal
    case: CaseWorld
    manager: Person
    visitor: Person
    ids: list[str]  # real ids of every kind, to put in paths

    def people(self) -> list[Person]:
        return [
            self.visitor,
            self.manager,
            self.case.facilitator,
            self.case.harmed,
            self.case.responsible,
        ]


def _fingerprint(portal: Portal) -> str:
    digest = hashlib.sha256()
    with portal.db() as db:
        for table in KEPT_TABLES:
            rows = db.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608  (fixed names)
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
            digest.update(f"|{table}|{len(rows)}".encode())
    return digest.hexdigest()


def _routes() -> list[tuple[str, str]]:
    found = []
    for route in routes():
        if not isinstance(route, Route) or route.methods is None:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path))
    return found


ROUTES = _routes()


def _fill(path: str, data: st.DataObject, world: World) -> str:
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        value = data.draw(
            st.sampled_from(world.ids)
            | st.sampled_from(["0", "1", "-1", "²", "99999999999", "v", str(uuid.uuid4())])
            | st.text(alphabet="abcdef0123456789-", max_size=40),
            label=path[start + 1 : end],
        )
        path = path[:start] + value + path[end + 1 :]
    return path


def _send(person: Person, method: str, path: str, data: st.DataObject) -> Any:
    shape = data.draw(st.sampled_from(["json", "raw json", "form", "bytes"]), label="shape")
    headers = {"X-CSRF-Token": person.csrf()}
    if data.draw(st.booleans(), label="htmx"):
        headers["HX-Request"] = "true"
    if shape == "json":
        body: Any = data.draw(json_bodies, label="body")
        return person.request(
            method,
            path,
            content=json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass"),
            headers={**headers, "Content-Type": "application/json"},
        )
    if shape == "raw json":
        raw = data.draw(json_values, label="value")
        return person.request(
            method,
            path,
            content=json.dumps(raw, allow_nan=True).encode("utf-8", "surrogatepass"),
            headers={**headers, "Content-Type": "application/json"},
        )
    if shape == "form":
        form = data.draw(
            st.dictionaries(st.sampled_from(FIELD_NAMES), st.text(max_size=30), max_size=6),
            label="form",
        )
        encoded = "&".join(
            f"{key}={value.encode('utf-8', 'surrogatepass').hex()}" for key, value in form.items()
        )
        return person.request(
            method,
            path,
            content=encoded.encode(),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
    return person.request(
        method, path, content=data.draw(st.binary(max_size=200), label="bytes"), headers=headers
    )


@pytest.fixture
def world(portal: Portal) -> World:
    case = CaseWorld.build(portal)
    message_id = case.write_letter(case.responsible, "Words to fuzz around.")
    manager = portal.service_manager()
    # An invitation reserved in the facilitator's browser, not sealed yet, and another's code.
    place = case.add_supporter_place(case.harmed)
    reserved = case.facilitator.post_json(
        "/api/invitations/prepare", {"role": "supporter", "supporter_id": place}
    )
    prepared = reserved.json()["invitation_id"]
    joined = case.add_supporter(case.harmed, display_name="Kim")[1]
    with portal.db() as db:
        object_id = db.execute(
            text("SELECT object_id FROM messages WHERE id = :id"), {"id": message_id}
        ).scalar_one()
        lookup_ids = list(
            db.execute(
                text("SELECT lookup_id FROM invitations WHERE lookup_id IS NOT NULL")
            ).scalars()
        )
    ids = [
        case.case_id,
        message_id,
        str(object_id),
        *case.participant_ids.values(),
        place,
        joined,
        prepared,
        *(str(lookup_id) for lookup_id in lookup_ids),
        manager.account_id,
        case.facilitator.account_id,
    ]
    return World(portal, case, manager, portal.visitor(), ids)


def test_every_route_refuses_bad_input_cleanly(world: World) -> None:
    @settings(
        # A deeper search now and then: PORTAL_FUZZ_EXAMPLES=5000 ./scripts/test.sh -k fuzz
        max_examples=int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "300")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(data=st.data())
    def drive(data: st.DataObject) -> None:
        method, template = data.draw(st.sampled_from(ROUTES), label="route")
        person = data.draw(st.sampled_from(world.people()), label="person")
        path = _fill(template, data, world)
        before = _fingerprint(world.portal)
        response = _send(person, method, path, data)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        if 400 <= response.status_code < 500:
            assert _fingerprint(world.portal) == before, (method, path, response.status_code)

    drive()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),  # RecursionError in json
        (b'{"code": "' + b"[" * 50_000 + b'"}', "application/json"),
        (b'{"sign_in_name": "\\ud800"}', "application/json"),  # a lone surrogate
    ],
)
def test_known_bad_bodies_are_400s(world: World, body: bytes, content_type: str) -> None:
    for path in ("/api/sign-in/params", "/api/join/start", "/api/sign-in"):
        response = world.visitor.request(
            "POST",
            path,
            content=body,
            headers={"Content-Type": content_type, "X-CSRF-Token": world.visitor.csrf()},
        )
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_superscript_digits_are_not_numbers(world: World) -> None:
    facilitator = world.case.facilitator
    refused = facilitator.post_json(
        f"/api/cases/{world.case.case_id}/status", {"status": "open", "version": "²"}
    )
    assert refused.status_code < 500
    author = world.case.responsible
    letter = author.post_json("/api/letters/objects").json()["object_id"]
    assert author.post_json(f"/api/uploads/{letter}/1", {"bytes": "²"}).status_code == 400
    assert (
        author.post_json(f"/api/uploads/{letter}/1", {"bytes": "\uff11\uff12"}).status_code == 400
    )


def test_superscript_digits_in_a_path_are_not_found(world: World) -> None:
    reader = world.case.facilitator
    object_id = world.ids[2]
    for path in (f"/api/content/{object_id}/²/0/0", f"/api/content/{object_id}/1/²/0"):
        assert reader.get(path).status_code == 404


def test_submit_naming_a_chunk_never_uploaded_is_refused(world: World) -> None:
    case = world.case
    author = case.responsible
    object_id = author.post_json("/api/letters/objects").json()["object_id"]
    sealed = author.seal_message(case.case_pk, object_id, 1, "Hello", [])
    body = sealed.letter_json()
    # A recording part the browser claims it uploaded, though no chunk of it ever arrived.
    body["stored_chunks"] = [{"part": 1, "index": 0, "final": True, "size": 100, "hash": "A" * 43}]
    before = _fingerprint(world.portal)
    response = author.post_json(
        "/api/letters",
        {
            "letter": body,
            "recipient_participant_id": case.participant_id(case.harmed),
            "grant_to_case": protocol.b64encode(sealed.grant_to_case),
            "grant_to_author": protocol.b64encode(sealed.grant_to_author),
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "stored_chunks"
    assert _fingerprint(world.portal) == before


def test_the_route_table_is_covered() -> None:
    assert len(ROUTES) > 50  # every route of portal/routes.py is a candidate for each example
