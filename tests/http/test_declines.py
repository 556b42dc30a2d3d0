"""A decline reaches its writer through a facilitator (issue 11, item 5): the facilitator's
home, queue and case page show it as a task; the writer's pages say it still waits until a
facilitator records telling them on the review page (labels.author_state)."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AuditEvent
from tests.cases_world import CaseWorld
from tests.factories import Portal
from tests.http.test_case_page import Ids, htmx

WAITING = "Approved: waiting for the other person to choose"
TOLD = "Not received: your facilitator has talked to you about it"


def declined_letter(world: CaseWorld) -> str:
    message_id = world.write_letter(world.responsible, "I am sorry.")
    assert world.approve(message_id).status_code == 200
    declined = world.harmed.post_json(f"/api/inbox/{message_id}/decline")
    assert declined.status_code == 200, declined.text
    return message_id


def test_the_writer_hears_of_a_decline_from_their_facilitator_first(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    message_id = declined_letter(world)

    # The writer's pages still say it waits, and their timeline shows no decline.
    assert WAITING in world.responsible.get("/home").text
    letter_page = world.responsible.get(f"/letters/{message_id}").text
    assert WAITING in letter_page
    assert "Not received" not in letter_page

    # The facilitator sees it first, as a task, on their home, above the queue and on the case.
    task = f'href="/review/{message_id}"'
    for page in ("/home", "/queue", f"/cases/{world.case_id}"):
        text = world.facilitator.get(page).text
        assert 'id="declines-to-tell"' in text, page
        assert task in text, page
    review = Ids(world.facilitator.get(f"/review/{message_id}").text)
    assert "decline-told-form" in review.attrs

    told = htmx(world.facilitator, f"/api/messages/{message_id}/decline-told")
    assert told.status_code == 200, told.text
    answer = Ids(told.text)
    assert answer.text("decline-told-text").startswith("Its writer was told on")
    assert "decline-told-form" not in answer.attrs

    assert TOLD in world.responsible.get("/home").text
    assert TOLD in world.responsible.get(f"/letters/{message_id}").text
    for page in ("/home", "/queue", f"/cases/{world.case_id}"):
        assert 'id="declines-to-tell"' not in world.facilitator.get(page).text, page
    again = world.facilitator.post_json(f"/api/messages/{message_id}/decline-told")
    assert again.status_code == 409
    with portal.db() as db:
        tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == message_id))
        assert "message:decline-told" in set(tags)


def test_only_a_declined_message_is_told_about_and_only_by_its_facilitators(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    waiting = world.write_letter(world.responsible, "Still waiting.")
    not_declined = world.facilitator.post_json(f"/api/messages/{waiting}/decline-told")
    assert not_declined.status_code == 409
    message_id = declined_letter(world)
    url = f"/api/messages/{message_id}/decline-told"
    other = CaseWorld.build(portal)
    assert other.facilitator.post_json(url).status_code == 404  # another case's facilitator
    assert world.responsible.post_json(url).status_code == 403  # not a facilitator at all
    answer = world.facilitator.post_json(url)
    assert answer.status_code == 200
    assert answer.json()["decline_told_at"]
