"""The author's pages as the server renders them: the compose page says whom the letter can go
to, in which formats, and why it cannot be sent now; the letter page names the message by what
it is and renders only the actions allowed now, as htmx forms the same endpoints answer."""

from __future__ import annotations

import re
from typing import Any

import httpx2 as httpx

from portal import protocol
from tests.cases_world import CaseWorld, sealed_object
from tests.factories import Person, Portal

b64 = protocol.b64encode


def htmx_post(person: Person, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A request as an htmx form sends it (lib/sealed-forms.js: JSON for a sealed form)."""
    headers = {"X-CSRF-Token": person.csrf(), "HX-Request": "true"}
    return person.request("POST", url, json=body or {}, headers=headers)


def send_button(page: str) -> bool:
    return 'id="send-button"' in page


def pause(world: CaseWorld) -> None:
    url = f"/api/cases/{world.case_id}/status"
    assert world.facilitator.post_json(url, {"status": "paused"}).status_code == 200


# -- the compose page ------------------------------------------------------------------------


def test_compose_page_names_the_one_recipient_and_the_formats_both_agreed_to(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.consent(world.responsible, ["letter", "video"])
    world.consent(world.harmed, ["audio", "letter", "video"])
    page = world.responsible.get("/letters/new").text
    recipient = world.participant_id(world.harmed)
    assert "This letter is for the person harmed." in page
    chosen = f'name="recipient_participant_id" value="{recipient}" data-formats="letter video"'
    assert chosen in page
    assert 'hx-post="/api/letters"' in page
    assert send_button(page)
    # Advice for the author's own side only.
    assert 'id="guidance-responsible"' in page
    assert 'id="guidance-harmed"' not in page


def test_compose_page_offers_a_choice_between_two_people_numbered(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    second = world.add_participant("person_harmed", "Robin")
    page = world.responsible.get("/letters/new").text
    assert "Who is this letter for?" in page
    assert re.findall(r"<label for=\"recipient-[0-9a-f-]+\">([^<]+)</label>", page) == [
        "The person harmed (1)",
        "The person harmed (2)",
    ]
    assert world.participant_id(second) in page


def test_compose_page_says_why_nothing_can_be_sent_while_the_case_is_paused(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    pause(world)
    page = world.responsible.get("/letters/new").text
    assert "This case is paused at the moment, so letters cannot be sent." in page
    assert "You can still write: your words are saved as you go." in page
    assert not send_button(page)
    assert "Who is this letter for?" not in page
    assert "This letter is for" not in page


def test_compose_page_says_why_when_nobody_agreed_to_receive_anything(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.consent(world.harmed, [])
    page = world.responsible.get("/letters/new").text
    assert "Nobody can receive a letter at the moment." in page
    assert not send_button(page)


def test_revise_page_names_the_message_and_where_its_next_version_goes(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    assert world.responsible.get(f"/letters/{message_id}/revise").status_code == 303
    world.return_with_feedback(message_id, "Please say more.")
    page = world.responsible.get(f"/letters/{message_id}/revise").text
    assert "<h1>Make changes to your letter</h1>" in page
    assert f'hx-post="/api/letters/{message_id}/revise"' in page
    assert 'data-version="2"' in page
    assert 'data-sealed="feedback-on-my-letter"' in page


# -- the letter page ---------------------------------------------------------------------------


def forms_on(page: str) -> list[str]:
    return re.findall(r'<form id="([a-z-]+)" hx-post=', page)


def test_letter_page_renders_only_the_actions_allowed_now(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    url = f"/letters/{message_id}"

    page = world.responsible.get(url).text
    assert forms_on(page) == ["withdraw-form"]
    assert "Make changes" not in page
    assert 'data-sealed="feedback-on-my-letter"' not in page
    assert 'data-sealed="my-letter"' in page

    world.return_with_feedback(message_id, "Please say more.")
    page = world.responsible.get(url).text
    assert forms_on(page) == ["withdraw-form"]
    assert "Make changes" in page
    assert 'data-sealed="feedback-on-my-letter"' in page

    assert world.responsible.post_json(f"/api/letters/{message_id}/withdraw").status_code == 200
    page = world.responsible.get(url).text
    assert forms_on(page) == ["delete-form"]
    assert "Make changes" not in page

    assert world.responsible.post_json(f"/api/letters/{message_id}/delete").status_code == 200
    page = world.responsible.get(url).text
    assert forms_on(page) == []
    assert 'id="content-deleted"' in page
    assert 'data-sealed="my-letter"' not in page


def test_letter_page_asks_before_withdrawing_in_the_words_of_what_it_is(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    world.consent(world.responsible, ["letter", "video"])
    world.consent(world.harmed, ["letter", "video"])
    video = protocol.Part(kind="recording", mime="video/webm", name="", data=b"\x1a\x45" * 100)
    message_id = world.write_media_message(world.responsible, "", [video], format_="video")
    page = world.responsible.get(f"/letters/{message_id}").text
    assert "<h1>Your video recording</h1>" in page
    assert 'data-confirm-heading="Withdraw this video recording?"' in page
    assert 'data-confirm-button="Yes, withdraw this video recording"' in page


def test_scanned_pages_are_named_as_such(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    scan = protocol.Part(kind="page", mime="image/png", name="page.png", data=b"\x89PNG" * 10)
    message_id = world.write_media_message(
        world.responsible, "", [scan], format_="letter", length={"pages": 1}
    )
    page = world.responsible.get(f"/letters/{message_id}").text
    assert "<h1>Your scanned pages</h1>" in page
    assert "Withdraw these scanned pages" in page


# -- the same endpoints answer htmx --------------------------------------------------------------


def test_withdrawing_from_the_letter_page_form_loads_the_letter_page_again(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    answer = htmx_post(world.responsible, f"/api/letters/{message_id}/withdraw")
    letter_url = f"/letters/{message_id}"
    assert (answer.status_code, answer.headers.get("HX-Redirect")) == (200, letter_url)
    assert "Withdrawn" in world.responsible.get(f"/letters/{message_id}").text
    deleted = htmx_post(world.responsible, f"/api/letters/{message_id}/delete")
    assert deleted.headers.get("HX-Redirect") == f"/letters/{message_id}"


def sealed_body(world: CaseWorld, author: Person, object_id: str, text: str) -> dict[str, Any]:
    sealed = protocol.seal_letter(
        author.secret_key,
        author.public_key,
        world.case_key_as_seen_by(author),
        object_id,
        1,
        text,
        "2026-11-22T12:00:00Z",
        author.account_id,
    )
    return {
        "recipient_participant_id": world.participant_id(world.harmed),
        "letter": sealed_object(object_id, 1, sealed),
        "grant_to_case": b64(sealed.grant_to_case),
        "grant_to_author": b64(sealed.grant_to_author),
    }


def test_sending_from_the_compose_form_goes_to_the_new_letter_page(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    author = world.responsible
    object_id = author.post_json("/api/letters/objects").json()["object_id"]
    answer = htmx_post(author, "/api/letters", sealed_body(world, author, object_id, "Words."))
    assert answer.status_code == 200
    assert re.fullmatch(r"/letters/[0-9a-f-]{36}", answer.headers["HX-Redirect"])


def test_a_refused_send_from_the_compose_form_is_one_sentence(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    author = world.responsible
    object_id = author.post_json("/api/letters/objects").json()["object_id"]
    body = sealed_body(world, author, object_id, "Words.")
    pause(world)
    answer = htmx_post(author, "/api/letters", body)
    assert answer.status_code == 409
    assert "HX-Redirect" not in answer.headers
    assert answer.text.strip() == (
        "This case is paused at the moment, so letters cannot be sent. Your draft is kept."
    )
