"""The recipient's inbox page over HTTP: only the choices allowed now are rendered, each an htmx
form; the same endpoints answer htmx with a partial or HX-Redirect, and JSON clients with JSON."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx2 as httpx

from tests.cases_world import CaseWorld, open_released
from tests.factories import Person, Portal

OPEN = "Open it now"
NOT_YET = "Not yet"
HOLD = "Ask my facilitator to hold it"
DECLINE = "I do not want to receive it"
READ_AGAIN = "Read it again"


def htmx_post(person: Person, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A request as the page's htmx forms send it (a sealed form's body is JSON)."""
    headers = {"X-CSRF-Token": person.csrf(), "HX-Request": "true"}
    return person.request("POST", url, json=body or {}, headers=headers)


def buttons(page: str) -> list[str]:
    """The choices on the inbox page (or in the partial that replaces them)."""
    choices = page[page.index('<div id="inbox-choices">') :]
    return [
        html.unescape(text) for text in re.findall(r'<button type="submit"[^>]*>([^<]*)<', choices)
    ]


def sealed_attribute(page: str, name: str) -> dict[str, Any]:
    found = re.search(rf"data-{name}='([^']*)'", page)
    assert found, f"no data-{name} in the page"
    value: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return value


def test_waiting_item_offers_the_four_choices_and_the_note_as_a_placeholder(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    world.approve(message_id, note="A short letter.")
    page = world.harmed.get(f"/inbox/{message_id}").text
    assert buttons(page) == [OPEN, NOT_YET, HOLD, DECLINE]
    assert f'hx-post="/api/inbox/{message_id}/open"' in page
    assert 'data-confirm-heading="Are you sure you do not want to receive it?"' in page
    # The note is sealed in the page, with its grant to the recipient alone.
    assert world.open_note(world.harmed, sealed_attribute(page, "note")) == "A short letter."
    # Nothing of the letter itself: no released message, no grant to it.
    assert 'data-sealed="inbox-message"' not in page
    assert "Nothing plays by itself" not in page  # a letter, not a recording


def test_paused_case_offers_only_what_waits_and_a_closed_one_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    world.approve(message_id)
    world.facilitator.post_json(f"/api/cases/{world.case_id}/status", {"status": "paused"})
    page = world.harmed.get(f"/inbox/{message_id}").text
    assert buttons(page) == [NOT_YET, HOLD]
    assert "Things are paused for now, so it cannot be opened at the moment." in page

    world.facilitator.post_json(
        f"/api/cases/{world.case_id}/status", {"status": "closed", "closing_reason": "completed"}
    )
    page = world.harmed.get(f"/inbox/{message_id}").text
    assert buttons(page) == []
    assert "Your facilitator has closed this process, so it cannot be opened here." in page


def test_held_item_offers_only_declining_and_no_note(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    world.approve(message_id, note="A short letter.")
    held = htmx_post(world.harmed, f"/api/inbox/{message_id}/hold")
    assert (held.status_code, held.headers.get("HX-Redirect")) == (200, "/home")
    page = world.harmed.get(f"/inbox/{message_id}").text
    assert buttons(page) == [DECLINE]
    assert 'data-sealed="inbox-note"' not in page
    assert "Your facilitator is keeping this for you." in page


def test_opening_with_htmx_answers_the_released_message_as_a_placeholder(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.\n\nTruly.")
    world.approve(message_id)
    # The page's tick box sends its value, "true", inside the sealed form's JSON.
    answer = htmx_post(world.harmed, f"/api/inbox/{message_id}/open", {"author_may_see": "true"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "HX-Redirect" not in answer.headers
    assert answer.text.startswith('<div id="inbox-choices">')
    assert buttons(answer.text) == []  # opened: the choices no longer apply
    released = sealed_attribute(answer.text, "released")
    assert open_released(world.harmed, released) == "I am sorry.\n\nTruly."
    assert "Opened by the other person" in world.responsible.get(f"/letters/{message_id}").text

    # Afterwards the page offers reading it again, and nothing else.
    page = world.harmed.get(f"/inbox/{message_id}").text
    assert buttons(page) == [READ_AGAIN]
    again = htmx_post(world.harmed, f"/api/inbox/{message_id}/open")
    assert open_released(world.harmed, sealed_attribute(again.text, "released")) == (
        "I am sorry.\n\nTruly."
    )


def test_refused_opening_with_htmx_is_one_sentence_for_the_form(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    world.approve(message_id)
    world.facilitator.post_json(f"/api/cases/{world.case_id}/status", {"status": "paused"})
    answer = htmx_post(world.harmed, f"/api/inbox/{message_id}/open")
    assert answer.status_code == 409
    assert answer.text.strip() == "This case is paused or closed, so nothing can move on for now."


def test_not_yet_and_decline_navigate_home_for_htmx_and_answer_json_clients(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.")
    world.approve(message_id)
    not_yet = world.harmed.post_json(f"/api/inbox/{message_id}/not-yet")
    assert not_yet.json() == {"state": "awaiting_recipient", "next": "/home"}
    later = htmx_post(world.harmed, f"/api/inbox/{message_id}/not-yet")
    assert (later.status_code, later.headers.get("HX-Redirect")) == (200, "/home")
    declined = htmx_post(world.harmed, f"/api/inbox/{message_id}/decline")
    assert (declined.status_code, declined.headers.get("HX-Redirect")) == (200, "/home")
    assert world.harmed.get(f"/inbox/{message_id}").status_code == 404


def test_home_speaks_of_waiting_items_only_in_neutral_words(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    waiting = world.write_letter(world.responsible, "One.")
    world.approve(waiting)
    home = world.harmed.get("/home").text
    assert "Your facilitator has passed on something for you." in home
    assert "See your choices" in home
    assert "Letter" not in home.split('id="waiting-items"')[1].split("</ul>")[0]
    world.open_letter(world.harmed, waiting)
    home = world.harmed.get("/home").text
    assert "You have looked at something your facilitator passed on to you." in home
    assert "Go to it again" in home
