"""Every case and letter route, for every role, in its own case and in another case.

Each role calls each route with ids from *one* case (the "own" case of its facilitator and
participants). A refusal is an authorisation answer: 401, 403, 404, or a redirect to sign in.
Anything else (200, or a 400/409 about the body or the state) means the door was open. The
expected set for each route says exactly who may pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.cases import path
from portal.cases.models import SupporterRequest
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_entered import enter

ANON, SM, FAC, FAC_OTHER = "anonymous", "service_manager", "facilitator", "facilitator_other"
# A second facilitator of the own case (a team: two-person approval in a high-risk case).
FAC_SECOND = "facilitator_second"
AUTHOR, RECIPIENT, PART_OTHER = "author", "recipient", "participant_other"
SUP = "supporter"  # a supporter who joined on the recipient's side of the own case
# A representative who joined on the author's side and may write for them (not this letter's
# writer: the author wrote the letters below themself).
WRITER = "writer"
ROLES = [ANON, SM, FAC, FAC_SECOND, FAC_OTHER, AUTHOR, RECIPIENT, PART_OTHER, SUP, WRITER]
ANY_FACILITATOR = frozenset({FAC, FAC_SECOND, FAC_OTHER})
OWN_FACILITATOR = frozenset({FAC, FAC_SECOND})
ANY_PARTICIPANT = frozenset({AUTHOR, RECIPIENT, PART_OTHER})
# Who may write for a side: any participant, or one allowed to write on a participant's behalf.
ANY_WRITER = ANY_PARTICIPANT | {WRITER}
SIGNED_IN = frozenset(ROLES) - {ANON}

# Insertion order is call order: reads first, then changes, the most final changes last.
CASE_MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/cases"): ANY_FACILITATOR,
    ("GET", "/cases/new"): ANY_FACILITATOR,
    # Each facilitator's own follow-ups (another's are not listed: test_casework.py).
    ("GET", "/follow-ups"): ANY_FACILITATOR,
    ("GET", "/queue"): ANY_FACILITATOR,
    ("GET", "/cases/{case_id}"): OWN_FACILITATOR,
    ("GET", "/cases/{case_id}/audit"): OWN_FACILITATOR,
    ("GET", "/api/cases/{case_id}/key"): OWN_FACILITATOR,
    ("GET", "/api/cases/{case_id}/participants"): OWN_FACILITATOR,
    ("GET", "/review/{message_id}"): OWN_FACILITATOR,
    ("GET", "/api/messages/{message_id}/review"): OWN_FACILITATOR,
    ("GET", "/letters/new"): ANY_WRITER,
    ("GET", "/withdraw"): ANY_PARTICIPANT,
    ("GET", "/api/me/case"): ANY_WRITER,
    ("GET", "/api/drafts"): ANY_WRITER,
    ("GET", "/letters/{message_id}"): frozenset({AUTHOR}),
    ("GET", "/letters/{message_id}/revise"): frozenset({AUTHOR}),
    ("GET", "/api/letters/{message_id}"): frozenset({AUTHOR}),
    ("GET", "/inbox/{released_id}"): frozenset({RECIPIENT}),
    ("GET", "/api/inbox/{released_id}/note"): frozenset({RECIPIENT}),
    # What the recipient opened, for a supporter who may read for them (test_supporters.py).
    ("GET", "/supporting/{opened_id}"): frozenset({SUP}),
    ("GET", "/api/uploads/{object_id}/{version}"): frozenset({AUTHOR}),
    # A chunk of the letter under review: its author and the case's facilitators only (the
    # recipient only after opening, see tests/http/test_media.py).
    ("GET", "/api/content/{sent_object_id}/{version}/{sent_part}/{index}"): frozenset(
        {FAC, FAC_SECOND, AUTHOR}
    ),
    ("GET", "/api/vault"): SIGNED_IN,
    ("PUT", "/api/vault"): SIGNED_IN,
    ("POST", "/api/cases"): ANY_FACILITATOR,
    ("POST", "/api/cases/{case_id}/participants"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/participants/{participant_id}/consent"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/participants/{participant_id}/case-key"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/participants/{participant_id}/verified"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/objects"): OWN_FACILITATOR,
    # Entered for a participant without access (test_entered.py): the own case's facilitators
    # get the page, and 409/400 here (the participant named has joined).
    ("GET", "/cases/{case_id}/participants/{participant_id}/enter"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/participants/{participant_id}/entered/objects"): (
        OWN_FACILITATOR
    ),
    ("POST", "/api/cases/{case_id}/participants/{participant_id}/entered"): OWN_FACILITATOR,
    # A reply released on paper to a participant without access (test_entered.py).
    ("GET", "/print/{paper_id}"): OWN_FACILITATOR,
    ("POST", "/api/messages/{paper_id}/printed"): OWN_FACILITATOR,
    # Only for a letter entered for someone without access: refused (404) for this one, which
    # the person responsible wrote themselves (the own facilitators: test_entered.py).
    ("POST", "/api/messages/{message_id}/withdraw-for-them"): frozenset(),
    # A letter entered for a participant without access and returned for changes: any of the
    # own case's facilitators revises it for them (an own facilitator gets 400 for the empty
    # body, or 409 once the other took it up; refusals and real ones: test_entered.py).
    ("GET", "/review/{entered_id}/revise-for-them"): OWN_FACILITATOR,
    ("POST", "/api/messages/{entered_id}/revise-for-them/object"): OWN_FACILITATOR,
    ("POST", "/api/messages/{entered_id}/revise-for-them"): OWN_FACILITATOR,
    ("POST", "/api/messages/{message_id}/claim"): OWN_FACILITATOR,
    ("POST", "/api/messages/{message_id}/approve"): OWN_FACILITATOR,
    ("POST", "/api/messages/{message_id}/approve-once"): OWN_FACILITATOR,
    ("POST", "/api/messages/{message_id}/return"): OWN_FACILITATOR,
    ("POST", "/api/messages/{message_id}/withhold"): OWN_FACILITATOR,
    ("POST", "/api/messages/{message_id}/release"): OWN_FACILITATOR,
    ("POST", "/api/messages/{released_id}/resume"): OWN_FACILITATOR,
    # An own facilitator gets 409: that message was not declined (real ones: test_declines.py).
    ("POST", "/api/messages/{released_id}/decline-told"): OWN_FACILITATOR,
    ("PUT", "/api/drafts/{draft_id}"): ANY_WRITER,
    ("DELETE", "/api/drafts/{draft_id}"): ANY_WRITER,
    ("POST", "/api/letters/objects"): ANY_WRITER,
    ("POST", "/api/letters"): ANY_WRITER,
    ("POST", "/api/letters/{message_id}/revise"): frozenset({AUTHOR}),
    ("POST", "/api/uploads/{object_id}/{version}"): frozenset({AUTHOR}),
    ("PUT", "/api/uploads/{object_id}/{version}/{part}/{index}"): frozenset({AUTHOR}),
    ("DELETE", "/api/uploads/{object_id}/{version}"): frozenset({AUTHOR}),
    ("POST", "/api/inbox/{released_id}/not-yet"): frozenset({RECIPIENT}),
    ("POST", "/api/inbox/{released_id}/open"): frozenset({RECIPIENT}),
    ("POST", "/api/inbox/{released_id}/hold"): frozenset({RECIPIENT}),
    ("POST", "/api/inbox/{released_id}/decline"): frozenset({RECIPIENT}),
    ("POST", "/api/supporting/{opened_id}/open"): frozenset({SUP}),
    ("POST", "/api/letters/{message_id}/withdraw"): frozenset({AUTHOR}),
    ("POST", "/api/letters/{message_id}/delete"): frozenset({AUTHOR}),
    ("POST", "/api/cases/{case_id}/participants/{participant_id}/supporters"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/supporters/{supporter_id}/verified"): OWN_FACILITATOR,
    # An own facilitator gets 400 for the empty body (a real grant: test_writing_on_behalf.py).
    ("POST", "/api/cases/{case_id}/supporters/{supporter_id}/case-key"): OWN_FACILITATOR,
    # The recipient asked for a supporter (the world below): only they cancel it, only the
    # case's facilitators close it; anyone taking part may ask (a 409 for a second request).
    ("POST", "/api/my/supporter-requests/{request_id}/cancel"): frozenset({RECIPIENT}),
    ("POST", "/api/cases/{case_id}/supporter-requests/{request_id}/close"): OWN_FACILITATOR,
    ("POST", "/api/my/supporter-requests"): ANY_PARTICIPANT,
    # Giving access again after a key change: an own facilitator gets the (empty) list, and 400
    # for the empty body (real ones: tests/http/test_keys_that_change.py).
    ("GET", "/api/cases/{case_id}/regrants"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/regrants"): OWN_FACILITATOR,
    # Only the participant whose side it is (the recipient here), or the case's facilitator.
    ("POST", "/api/my/supporters/{supporter_id}/revoke"): frozenset({RECIPIENT}),
    ("POST", "/api/cases/{case_id}/supporters/{supporter_id}/revoke"): OWN_FACILITATOR,
    # An own facilitator gets 400 for the empty body (a real one: test_facilitator_teams.py).
    ("POST", "/api/cases/{case_id}/facilitators"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/high-risk"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/status"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/stage"): OWN_FACILITATOR,
    # The case's records (portal/casework): its facilitators only; an own facilitator gets
    # 400 for the empty body (real ones: test_casework.py).
    ("GET", "/cases/{case_id}/notes"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/risk-assessments"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/notes"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/agreement"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/agreement/{item_id}/completed"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/agreement/{item_id}/due"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/agreement/{item_id}/remove"): OWN_FACILITATOR,
    ("POST", "/api/withdraw"): ANY_PARTICIPANT,
    # An own facilitator gets 400 for the empty body (real ones: test_case_epochs.py).
    ("POST", "/api/cases/{case_id}/hand-over"): OWN_FACILITATOR,
    ("POST", "/api/cases/{case_id}/key-epochs"): OWN_FACILITATOR,
    # Only a service manager; the own case has active facilitators, so they get 409
    # (a real reassignment: test_case_reassignment.py).
    ("POST", "/staff/cases/{case_id}/reassign"): frozenset({SM}),
    # Last: the second facilitator is taken off the case (by the first, or by themself).
    ("POST", "/api/cases/{case_id}/facilitators/{account_id}/remove"): OWN_FACILITATOR,
}

BODIES: dict[str, dict[str, Any]] = {
    "/api/vault": {"blob": "AAAA"},
    "/api/cases/{case_id}/participants/{participant_id}/consent": {"formats": ["letter"]},
    "/api/cases/{case_id}/objects": {"kind": "feedback"},
    "/api/cases/{case_id}/status": {"status": "paused"},
    "/api/cases/{case_id}/stage": {"stage": "first_contact"},
    "/api/cases/{case_id}/high-risk": {"high_risk": "none"},
    "/api/drafts/{draft_id}": {"blob": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    "/api/uploads/{object_id}/{version}": {"bytes": 4096},
    "/api/my/supporter-requests": {"kind": "supporter", "may_read": True},
}
# Raw (not JSON) bodies: an uploaded chunk.
RAW_BODIES: dict[str, bytes] = {
    "/api/uploads/{object_id}/{version}/{part}/{index}": b"\x01" * 100,
}
# Placeholders naming a second kind of the same route parameter.
ALIASES = {
    "{released_id}": "{message_id}",
    "{opened_id}": "{message_id}",
    "{paper_id}": "{message_id}",
    "{entered_id}": "{message_id}",
    "{sent_object_id}": "{object_id}",
    "{sent_part}": "{part}",
}


def route_template(template: str) -> str:
    for alias, name in ALIASES.items():
        template = template.replace(alias, name)
    return template


def _refused(status: int, location: str) -> bool:
    return status in {401, 403, 404} or (status == 303 and location.startswith("/sign-in"))


@dataclass
class Worlds:
    own: CaseWorld
    other: CaseWorld
    second: Person  # a second facilitator of the own case
    in_review: str
    released: str
    in_review_object: str
    upload_object: str  # an upload the author started, not yet submitted (the writer may not)
    supporter: Person  # joined on the recipient's side, may read
    supporter_id: str
    writer: Person  # joined on the author's side, may write for them
    request_id: str  # the recipient asked for a supporter
    opened: str  # released, with a grant to the supporter, and opened by the recipient
    paper: str  # released on paper to a participant without access
    entered: str  # entered for that participant, and returned for changes
    item_id: str  # an agreement item of the own case


@pytest.fixture
def worlds(portal: Portal) -> Worlds:
    own = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    second = portal.person(Role.FACILITATOR)
    own.add_colleague(second)
    in_review = own.write_letter(own.responsible, "In the queue.")
    released = own.write_letter(own.responsible, "Approved.")
    assert own.approve(released).status_code == 200
    in_review_object = own.responsible.get(f"/api/letters/{in_review}").json()["object_id"]
    upload_object = own.responsible.post_json("/api/letters/objects").json()["object_id"]
    assert own.responsible.start_upload(upload_object, 1, 4096).status_code == 200
    supporter, supporter_id = own.add_supporter(own.harmed)
    opened = own.write_letter(own.responsible, "Opened.")
    assert own.approve(opened, readers={supporter_id: supporter}).status_code == 200
    own.open_letter(own.harmed, opened)
    writer, _writer_id = own.add_writer(own.responsible, kind="representative", may_read=False)
    asked = own.harmed.post_json(
        "/api/my/supporter-requests", {"kind": "supporter", "may_read": True}
    )
    assert asked.status_code == 200, asked.text
    with portal.db() as db:
        request_id = db.scalars(select(SupporterRequest.id)).one()
    kai = own.add_without_access("person_responsible", "Kai")
    paper = own.write_letter(own.harmed, "On paper.", to=kai)
    own.review(paper)
    assert own.facilitator.post_json(f"/api/messages/{paper}/approve", {}).status_code == 200
    entered = enter(own, kai, "Entered for Kai.").json()["message_id"]
    assert own.return_with_feedback(entered, "A change?").status_code == 200
    # An agreement item (its description any ciphertext: the server cannot tell).
    item_id = str(uuid.uuid4())
    made = own.facilitator.post_json(
        f"/api/cases/{own.case_id}/agreement",
        {
            "item_id": item_id,
            "kind": "apology",
            "due_on": path.today().isoformat(),
            "description": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        },
    )
    assert made.status_code == 200, made.text
    return Worlds(
        own,
        other,
        second,
        in_review,
        released,
        in_review_object,
        upload_object,
        supporter,
        supporter_id,
        writer,
        request_id,
        opened,
        paper,
        entered,
        item_id,
    )


def _caller(role: str, portal: Portal, worlds: Worlds) -> Person:
    own, other = worlds.own, worlds.other
    people: dict[str, Callable[[], Person]] = {
        ANON: portal.visitor,
        SM: portal.service_manager,
        FAC: lambda: own.facilitator,
        FAC_SECOND: lambda: worlds.second,
        FAC_OTHER: lambda: other.facilitator,
        AUTHOR: lambda: own.responsible,
        RECIPIENT: lambda: own.harmed,
        PART_OTHER: lambda: other.responsible,
        SUP: lambda: worlds.supporter,
        WRITER: lambda: worlds.writer,
    }
    return people[role]()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_passes_exactly_its_case_routes(
    portal: Portal, worlds: Worlds, role: str
) -> None:
    own = worlds.own
    person = _caller(role, portal, worlds)
    ids = {
        "{case_id}": own.case_id,
        "{participant_id}": own.participant_id(own.harmed),
        "{message_id}": worlds.in_review,
        "{released_id}": worlds.released,
        "{draft_id}": str(uuid.uuid4()),
        "{sent_object_id}": worlds.in_review_object,
        "{object_id}": worlds.upload_object,
        "{version}": "1",
        "{sent_part}": "0",
        "{part}": "1",
        "{index}": "0",
        "{supporter_id}": worlds.supporter_id,
        "{opened_id}": worlds.opened,
        "{request_id}": worlds.request_id,
        "{paper_id}": worlds.paper,
        "{entered_id}": worlds.entered,
        "{account_id}": worlds.second.account_id,
        "{item_id}": worlds.item_id,
    }
    failures = []
    for (method, template), allowed in CASE_MATRIX.items():
        path = template
        for placeholder, value in ids.items():
            path = path.replace(placeholder, value)
        body = BODIES.get(template, {})
        if method == "GET":
            response = person.get(path)
        elif template in RAW_BODIES:
            response = person.request(
                method,
                path,
                content=RAW_BODIES[template],
                headers={"X-CSRF-Token": person.csrf(), "Content-Type": "application/octet-stream"},
            )
        else:
            response = person.request(
                method, path, json=body, headers={"X-CSRF-Token": person.csrf()}
            )
        status, location = response.status_code, response.headers.get("location", "")
        assert status < 500, f"{method} {template} as {role}: {status} {response.text[:200]}"
        if (role in allowed) == _refused(status, location):
            failures.append(f"{method} {template} as {role}: {status} {location}")
    assert not failures, "\n".join(failures)
