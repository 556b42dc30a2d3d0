"""The case page as the server renders it, and its htmx forms' answers.

The page renders only the actions allowed now (portal/cases/states.py); each of its forms posts to
the JSON API's URL, which answers htmx with the piece of the page that changed
(portal/workspace/case_actions.py) and JSON clients with JSON as before.
"""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from typing import Any

import httpx2 as httpx

from portal import protocol
from portal.accounts.models import Role
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal

b64 = protocol.b64encode


class Ids(HTMLParser):
    """The attributes of every element with an id, and the text inside each."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.texts: dict[str, list[str]] = {}
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        element_id = found.get("id")
        if element_id:
            self.attrs[element_id] = found
            self.texts[element_id] = []
        if tag not in {"input", "br", "meta", "link", "img"}:
            self._open.append(element_id)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in {"input", "br", "meta", "link", "img"}:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.texts[element_id].append(data)

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.texts[element_id]).split())


def htmx(person: Person, url: str, **body: Any) -> httpx.Response:
    """A request as the page's htmx forms make it: a form body, or JSON from a sealed form."""
    headers = {"X-CSRF-Token": person.csrf(), "HX-Request": "true"}
    if body.pop("sealed", False):
        return person.request("POST", url, json=body, headers=headers)
    return person.request("POST", url, data=body, headers=headers)


def case_page(world: CaseWorld) -> Ids:
    response = world.facilitator.get(f"/cases/{world.case_id}")
    assert response.status_code == 200, response.text
    return Ids(response.text)


def new_participant(world: CaseWorld, name: str = "Jo") -> str:
    """A participant added, not invited: their id."""
    participant_id = str(uuid.uuid4())
    sealed = protocol.seal_case_text(
        world.case_sk, world.case_id, f"participant-name:{participant_id}", name
    )
    answer = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/participants",
        {"participant_id": participant_id, "side": "person_harmed", "sealed_name": b64(sealed)},
    )
    assert answer.json() == {"participant_id": participant_id}
    return participant_id


def participant_url(world: CaseWorld, participant_id: str, what: str) -> str:
    return f"/api/cases/{world.case_id}/participants/{participant_id}/{what}"


# -- status ----------------------------------------------------------------------------------


def test_status_offers_only_the_moves_allowed_now_and_answers_with_the_section(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    page = case_page(world)
    assert page.text("case-status-text") == "open"
    assert {"pause-case", "close-case"} <= page.attrs.keys()
    assert "resume-case" not in page.attrs

    paused = htmx(world.facilitator, f"/api/cases/{world.case_id}/status", status="paused")
    section = Ids(paused.text)
    assert section.text("case-status-text") == "paused"
    assert "pause-case" not in section.attrs
    assert "autofocus" in section.attrs["resume-case"]
    assert "The case is paused. Nothing will be written" in paused.text
    assert 'hx-swap-oob="innerHTML:#case-status-message"' in paused.text
    # Nothing else on the page changes while the case is only paused.
    assert "participants-list" not in section.attrs

    # A JSON client gets JSON, as before.
    resumed = world.facilitator.post_json(f"/api/cases/{world.case_id}/status", {"status": "open"})
    assert resumed.json() == {"status": "open"}


def test_closing_asks_first_and_takes_every_action_away(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    close_form = case_page(world)
    html = world.facilitator.get(f"/cases/{world.case_id}").text
    assert 'data-confirm-heading="Close this case?"' in html
    assert 'data-confirm-button="Yes, close the case"' in html
    assert "close-case" in close_form.attrs

    closed = htmx(
        world.facilitator,
        f"/api/cases/{world.case_id}/status",
        status="closed",
        closing_reason="completed",
    )
    answer = Ids(closed.text)
    assert answer.text("case-status-text") == "closed"
    assert not {"pause-case", "resume-case", "close-case"} & answer.attrs.keys()
    assert "autofocus" in answer.attrs["status-heading"]
    # The cards come again, out of band, without their forms; the form to add one goes.
    assert answer.attrs["participants-list"]["hx-swap-oob"] == "true"
    assert "hx-post" not in closed.text.split('id="participants-list"')[1]
    assert answer.attrs["add-participant-section"]["hx-swap-oob"] == "delete"

    page = case_page(world)
    assert "add-participant-form" not in page.attrs
    again = htmx(world.facilitator, f"/api/cases/{world.case_id}/status", status="open")
    assert (again.status_code, again.text.strip()) == (409, "This case is closed.")


# -- participants ----------------------------------------------------------------------------


def test_participants_show_sealed_names_facts_and_only_their_allowed_actions(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    waiting = new_participant(world)
    page = case_page(world)

    harmed = world.participant_id(world.harmed)
    card = page.attrs[f"participant-{harmed}"]
    assert "data-needs-case-key" not in card  # CaseWorld gave them the key
    assert page.text(f"participant-{harmed}-heading").startswith("Person harmed")
    assert page.text(f"consent-{harmed}-button") == "Record consent for the person harmed"
    assert f"invite-{harmed}" not in page.attrs  # joined: nobody invites them again
    fingerprint = page.attrs[f"fingerprint-{harmed}"]
    assert fingerprint["data-sealed"] == "security-number"
    assert fingerprint["data-public-key"] == b64(world.harmed.public_key)
    assert "Alex" not in world.facilitator.get(f"/cases/{world.case_id}").text

    assert f"invite-{waiting}-button" in page.attrs
    assert page.text(f"invite-{waiting}-button") == "Create an invitation for the person harmed"
    assert f"fingerprint-{waiting}" not in page.attrs


def test_joined_participant_without_the_case_key_is_marked_for_the_browser(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    participant_id, code = world.invite_participant("person_harmed", "Jo")
    person = portal.visitor().join_invited(code)

    card = case_page(world).attrs[f"participant-{participant_id}"]
    assert "data-needs-case-key" in card
    assert card["data-public-key"] == b64(person.public_key)
    assert card["data-call-name"] == "the person harmed"

    grant = protocol.make_case_public_grant(
        world.facilitator.secret_key, person.public_key, world.case_id, world.case_pk
    )
    given = world.facilitator.post_json(
        participant_url(world, participant_id, "case-key"), {"grant": b64(grant)}
    )
    assert given.json() == {"ok": True}
    assert "data-needs-case-key" not in case_page(world).attrs[f"participant-{participant_id}"]


def test_adding_from_the_sealed_form_appends_the_card_and_a_fresh_form(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    participant_id = str(uuid.uuid4())
    sealed = protocol.seal_case_text(
        world.case_sk, world.case_id, f"participant-name:{participant_id}", "Jo"
    )
    url = f"/api/cases/{world.case_id}/participants"
    no_side = htmx(
        world.facilitator, url, sealed=True, participant_id=participant_id, sealed_name=b64(sealed)
    )
    assert (no_side.status_code, no_side.text.strip()) == (
        400,
        "Choose the side this person is on.",
    )

    added = htmx(
        world.facilitator,
        url,
        sealed=True,
        side="person_responsible",
        participant_id=participant_id,
        sealed_name=b64(sealed),
    )
    answer = Ids(added.text)
    assert "autofocus" in answer.attrs[f"participant-{participant_id}-heading"]
    assert answer.attrs["add-participant-section"]["hx-swap-oob"] == "true"
    assert answer.attrs["participants-empty"]["hx-swap-oob"] == "true"
    assert "hidden" in answer.attrs["participants-empty"]
    assert f'data-sealed-name="{b64(sealed)}"' in added.text
    assert "was added as the person responsible. Next, create an invitation" in added.text


def test_invitation_made_in_the_browser_leaves_the_card_offering_a_new_one(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    participant_id = new_participant(world)
    page = case_page(world)
    assert page.text(f"invite-{participant_id}-button").startswith("Create an invitation")
    # The code and link are shown by the browser that made them, in this hidden part.
    assert page.text(f"invite-{participant_id}-code") == ""
    assert "data-join-link" in page.attrs[f"invite-{participant_id}-link"]

    code = world.facilitator.invite(Role.PARTICIPANT, participant_id, world.case_id)
    page = case_page(world)
    assert code not in world.facilitator.get(f"/cases/{world.case_id}").text
    assert page.text(f"invite-{participant_id}-button").startswith("Create a new invitation")
    assert page.text(f"participant-{participant_id}").count("an invitation is waiting") == 1


def test_consent_form_records_the_ticked_formats_or_none(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    participant_id = world.participant_id(world.responsible)
    url = participant_url(world, participant_id, "consent")

    two = htmx(world.facilitator, url, formats=["letter", "video"])
    assert "Consent recorded for" in two.text
    card = Ids(two.text)
    assert (
        card.text(f"participant-{participant_id}").count("Letter, Video recording (recorded") == 1
    )
    assert "checked" in card.attrs[f"consent-{participant_id}-video"]
    assert "checked" not in card.attrs[f"consent-{participant_id}-audio"]

    none = htmx(world.facilitator, url)
    assert "has not agreed to any format. Nothing can be passed to or from them." in none.text
    assert "Not recorded" in Ids(none.text).text(f"participant-{participant_id}")

    # JSON clients still send a list, and only a list.
    assert world.facilitator.post_json(url, {"formats": "letter"}).status_code == 400


def test_key_compared_in_person_is_recorded_from_the_sealed_form(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    participant_id = world.participant_id(world.harmed)
    url = participant_url(world, participant_id, "verified")
    verified = htmx(world.facilitator, url, sealed=True, public_key=b64(world.harmed.public_key))
    answer = Ids(verified.text)
    assert "autofocus" in answer.attrs[f"security-{participant_id}-heading"]
    assert answer.attrs[f"fingerprint-{participant_id}"]["data-verified-public-key"] == b64(
        world.harmed.public_key
    )
    assert "security number is recorded as compared in person." in verified.text


def test_nothing_is_done_for_someone_who_withdrew(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    participant_id = world.participant_id(world.responsible)
    assert world.responsible.post_json("/api/withdraw").status_code == 200

    page = case_page(world)
    assert f"consent-{participant_id}-button" not in page.attrs
    assert "Withdrew from the process on" in page.text(f"participant-{participant_id}")
    refused = htmx(world.facilitator, participant_url(world, participant_id, "consent"))
    assert (refused.status_code, refused.text.strip()) == (
        409,
        "This person has withdrawn from the process.",
    )


# -- a new case --------------------------------------------------------------------------------


def test_new_case_from_the_sealed_form_goes_to_its_page(portal: Portal) -> None:
    facilitator = portal.person(Role.FACILITATOR)
    case_id = str(uuid.uuid4())
    case_sk, case_pk = protocol.generate_identity()
    sealed = {
        "case_id": case_id,
        "public_key": b64(case_pk),
        "grant": b64(
            protocol.make_case_grant(
                facilitator.secret_key, facilitator.public_key, case_id, case_sk
            )
        ),
    }
    empty = htmx(facilitator, "/api/cases", sealed=True, reference=" ", label="Shop", **sealed)
    assert (empty.status_code, empty.text.strip()) == (400, "Enter the case reference.")
    # The field's name (never what was typed) tells the page where to say it.
    assert empty.headers["X-Field"] == "reference"
    unlabelled = htmx(facilitator, "/api/cases", sealed=True, reference="RJ-1", **sealed)
    assert unlabelled.text.strip() == "Give the case a short label."
    assert unlabelled.headers["X-Field"] == "label"

    opened = htmx(facilitator, "/api/cases", sealed=True, reference="RJ-1", label="Shop", **sealed)
    assert (opened.status_code, opened.headers["HX-Redirect"]) == (200, f"/cases/{case_id}")
