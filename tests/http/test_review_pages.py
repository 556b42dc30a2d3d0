"""The review queue and the review page as the server renders them: only the actions allowed
now, each an htmx form on the JSON endpoint; htmx gets partials or the next page to go to."""

from __future__ import annotations

import re
from typing import Any

import httpx2 as httpx
from sqlalchemy import select

from portal.accounts.models import Role
from portal.cases.models import Case, CaseCondition, CaseFacilitator, Format
from portal.messages.models import Message
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal

HTMX = {"HX-Request": "true"}


def htmx_post(person: Person, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A form the page sends through htmx: a sealed one as JSON, a plain one as a form."""
    headers = {"X-CSRF-Token": person.csrf(), **HTMX}
    if body is None:
        return person.request("POST", url, data={}, headers=headers)
    return person.request("POST", url, json=body, headers=headers)


def forms(html: str) -> set[str]:
    """The URLs the page's htmx forms post to."""
    return set(re.findall(r'hx-post="([^"]+)"', html))


def set_case_status(portal: Portal, world: CaseWorld, status: CaseCondition) -> None:
    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        case.status = status
        db.commit()


def test_the_queue_offers_to_start_reviewing_a_waiting_letter(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    page = world.facilitator.get("/queue")
    assert forms(page.text) == {f"/api/messages/{message_id}/claim"}
    assert "Start reviewing" in page.text

    # Claimed by me: a link to continue, no claim form.
    world.review(message_id)
    page = world.facilitator.get("/queue")
    assert forms(page.text) == set()
    assert "Continue reviewing" in page.text


def test_the_queue_filter_gets_the_list_alone_with_a_status_sentence(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    listed = world.facilitator.get("/queue?state=all&format=letter", headers=HTMX)
    assert listed.status_code == 200
    assert "<html" not in listed.text
    assert listed.text.lstrip().startswith('<div id="queue-items">')
    assert f'data-message-id="{message_id}"' in listed.text
    assert re.search(r'id="queue-status" hx-swap-oob="innerHTML">1 item shown', listed.text)

    empty = world.facilitator.get("/queue?format=video", headers=HTMX)
    assert 'id="queue-empty">Nothing matches these filters.' in empty.text
    assert "hx-push-url" not in world.facilitator.get("/queue").text


def test_starting_to_review_through_htmx_goes_to_the_review_page(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    claimed = htmx_post(world.facilitator, f"/api/messages/{message_id}/claim")
    assert (claimed.status_code, claimed.headers.get("HX-Redirect")) == (
        200,
        f"/review/{message_id}",
    )
    # JSON clients get the state, and where the page would go.
    again = world.facilitator.post_json(f"/api/messages/{message_id}/claim")
    assert again.json() == {"state": "in_review", "next": f"/review/{message_id}"}


def test_the_review_page_renders_only_the_actions_allowed_now(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    with portal.db() as db:  # a second facilitator of the same case
        db.add(CaseFacilitator(case_id=world.case_id, account_id=colleague.account_id))
        db.commit()
    message_id = world.write_letter(world.responsible, "Words.")
    api = f"/api/messages/{message_id}"

    waiting = world.facilitator.get(f"/review/{message_id}").text
    assert forms(waiting) == {f"{api}/claim"}
    assert '<h1 id="review-heading">Review a letter</h1>' in waiting

    world.review(message_id)
    mine = world.facilitator.get(f"/review/{message_id}").text
    assert forms(mine) == {f"{api}/approve", f"{api}/return", f"{api}/withhold", f"{api}/release"}
    for decision in ("approve", "return", "withhold"):
        assert f'data-seal="{decision}"' in mine
    assert 'data-confirm-heading="Approve this letter?"' in mine
    assert 'data-confirm-heading="Withhold this letter?"' in mine
    assert "Being reviewed by you" in mine
    # The words of a decision never have a name: they are sealed before anything is sent.
    assert not re.search(r"<textarea[^>]* name=", mine)

    theirs = colleague.get(f"/review/{message_id}").text
    assert forms(theirs) == set()
    assert "Another facilitator is reviewing this letter." in theirs


def test_names_are_placeholders_never_plaintext(portal: Portal) -> None:
    world = CaseWorld.build(portal, names=("Hana Quill", "Sam Birch"))
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    page = world.facilitator.get(f"/review/{message_id}").text
    assert "Hana Quill" not in page
    assert "Sam Birch" not in page
    assert page.count('data-sealed="participant-name"') >= 2
    assert "Person harmed</span>" in page


def test_decisions_through_htmx_go_back_to_the_queue(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    body = {"feedback": world.note(world.responsible.public_key, "feedback", "Shorter, please.")}
    returned = htmx_post(world.facilitator, f"/api/messages/{message_id}/return", body)
    assert (returned.status_code, returned.headers.get("HX-Redirect")) == (200, "/queue")

    # A refusal is one sentence for the form's alert region.
    refused = htmx_post(world.facilitator, f"/api/messages/{message_id}/release")
    assert refused.status_code == 409
    assert refused.text.strip() == "Open this letter for review first."


def test_approving_is_switched_off_when_the_recipient_has_withdrawn(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    assert world.harmed.post_json("/api/withdraw").status_code == 200
    page = world.facilitator.get(f"/review/{message_id}").text
    assert "Approving is switched off: the recipient has withdrawn from the process." in page
    assert re.search(r'id="decision-approve"[^>]*disabled', page)
    assert f"/api/messages/{message_id}/approve" not in forms(page)


def test_a_paused_case_offers_nothing_and_says_why(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    set_case_status(portal, world, CaseCondition.PAUSED)
    page = world.facilitator.get(f"/review/{message_id}").text
    assert forms(page) == set()
    assert "This case is paused, so letters cannot be reviewed until it is resumed." in page


def test_offering_a_held_letter_again_swaps_in_what_happened(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve(message_id)
    assert world.harmed.post_json(f"/api/inbox/{message_id}/hold").status_code == 200
    page = world.facilitator.get(f"/review/{message_id}").text
    assert forms(page) == {f"/api/messages/{message_id}/resume"}

    resumed = htmx_post(world.facilitator, f"/api/messages/{message_id}/resume")
    assert resumed.status_code == 200
    assert resumed.text.lstrip().startswith('<section aria-labelledby="decision-heading"')
    assert "The letter is offered to" in resumed.text
    assert "autofocus" in resumed.text
    assert re.search(
        r'<dd id="review-state" hx-swap-oob="true">Approved, waiting for the recipient</dd>',
        resumed.text,
    )
    assert forms(resumed.text) == set()


def test_the_heading_names_what_the_message_is(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    with portal.db() as db:
        message = db.scalars(select(Message).where(Message.id == message_id)).one()
        message.format = Format.AUDIO
        db.commit()
    page = world.facilitator.get(f"/review/{message_id}").text
    assert '<h1 id="review-heading">Review an audio recording</h1>' in page
    assert 'data-confirm-heading="Approve this audio recording?"' not in page  # not claimed yet
    world.review(message_id)
    page = world.facilitator.get(f"/review/{message_id}").text
    assert 'data-confirm-heading="Approve this audio recording?"' in page
