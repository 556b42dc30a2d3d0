"""High-risk cases over HTTP with real crypto: one approval never releases, two different
facilitators do, the same facilitator twice never counts, and no key for the recipient exists
anywhere before the second approval. The case page marks and unmarks a case, audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.content.models import ContentGrant, GrantPurpose
from portal.messages.models import Message
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal


def high_risk_case(portal: Portal) -> tuple[CaseWorld, Person]:
    """A case marked high-risk with a second facilitator, who holds the case key."""
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    assert world.mark_high_risk("sexual_harm").json() == {"high_risk": "sexual_harm"}
    return world, colleague


def recipient_grants(portal: Portal) -> list[ContentGrant]:
    with portal.db() as db:
        return list(
            db.scalars(select(ContentGrant).where(ContentGrant.purpose == GrantPurpose.RECIPIENT))
        )


def review_json(person: Person, message_id: str) -> dict[str, Any]:
    response = person.get(f"/api/messages/{message_id}/review")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_one_approval_does_not_release_and_a_second_facilitator_does(portal: Portal) -> None:
    world, colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "I am sorry.")

    first = world.approve_once(message_id, note="Checked with the victim liaison officer.")
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "approved_once"
    # Before the second approval no key for the recipient exists anywhere.
    assert recipient_grants(portal) == []
    assert world.harmed.post_json(f"/api/inbox/{message_id}/open").status_code == 404
    assert message_id not in world.harmed.get("/home").text

    # The second facilitator reads the first's note, opened with the case key, and approves.
    note = review_json(colleague, message_id)["approval_note"]
    assert world.open_note_with_case_key(note) == "Checked with the victim liaison officer."
    page = colleague.get(f"/review/{message_id}").text
    assert "waiting for a second approval" in page
    assert "Give the second approval and offer it to the recipient" in page
    second = world.approve(message_id, "Take your time.", facilitator=colleague, claim=False)
    assert second.status_code == 200, second.text
    assert second.json()["state"] == "awaiting_recipient"
    assert world.read_content_note(world.harmed, message_id) == "Take your time."
    assert world.open_letter(world.harmed, message_id) == "I am sorry."
    with portal.db() as db:
        message = db.get(Message, message_id)
        assert message is not None
        assert message.first_approved_by_id == world.facilitator.account_id
        assert message.decided_by_id == colleague.account_id


def test_the_same_facilitator_twice_never_counts(portal: Portal) -> None:
    world, _colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    assert world.approve_once(message_id).status_code == 200

    page = world.facilitator.get(f"/review/{message_id}").text
    assert "You gave the first approval" in page
    assert 'id="approve-form"' not in page
    again = world.approve(message_id, facilitator=world.facilitator, claim=False)
    assert again.status_code == 409
    assert "your own approval cannot count twice" in again.json()["error"]
    for decision in ("return", "withhold"):
        refused = world.facilitator.post_json(
            f"/api/messages/{message_id}/{decision}",
            {
                "feedback" if decision == "return" else "reason": world.note(
                    world.responsible.public_key, "feedback", "No."
                )
            },
        )
        assert refused.status_code == 409, decision
    assert recipient_grants(portal) == []
    assert review_json(world.facilitator, message_id)["state"] == "approved_once"


def test_a_single_approval_is_refused_in_a_high_risk_case(portal: Portal) -> None:
    world, _colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    refused = world.approve(message_id)
    assert refused.status_code == 409
    assert "two facilitators" in refused.json()["error"]
    assert recipient_grants(portal) == []


def test_a_first_approval_carries_no_grant_for_the_recipient(portal: Portal) -> None:
    world, _colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    sneaked = world.facilitator.post_json(
        f"/api/messages/{message_id}/approve-once", {"recipient_grant": "AAAA"}
    )
    assert sneaked.status_code == 400
    assert sneaked.json()["field"] == "recipient_grant"
    assert review_json(world.facilitator, message_id)["state"] == "in_review"


def test_marking_a_case_while_a_letter_is_reviewed_applies_to_its_approval(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    world.add_colleague(portal.person(Role.FACILITATOR))
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    assert "Approve it and offer it" in world.facilitator.get(f"/review/{message_id}").text
    world.mark_high_risk("death")
    page = world.facilitator.get(f"/review/{message_id}").text
    assert "a second facilitator must approve it too" in page
    assert 'id="approve-form"' not in page
    assert world.approve(message_id).status_code == 409
    assert world.approve_once(message_id).status_code == 200


def test_unmarking_keeps_a_first_approval_waiting_for_a_second(portal: Portal) -> None:
    world, colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve_once(message_id)
    assert world.mark_high_risk("none").json() == {"high_risk": None}
    assert world.approve(message_id, claim=False).status_code == 409
    assert world.approve(message_id, facilitator=colleague, claim=False).status_code == 200


def test_the_second_facilitator_can_return_it_and_a_revision_needs_two_again(
    portal: Portal,
) -> None:
    world, colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve_once(message_id, note="Fine by me.")
    feedback = world.note(world.responsible.public_key, "feedback", "Gentler, please.", colleague)
    body = {"feedback": feedback}
    returned = colleague.post_json(f"/api/messages/{message_id}/return", body)
    assert returned.status_code == 200, returned.text
    assert world.read_feedback(world.responsible, message_id) == "Gentler, please."
    world.revise_letter(world.responsible, message_id, "Gentler words.")
    # The old first approval does not count for the new version.
    assert review_json(world.facilitator, message_id)["approval_note"] is None
    assert world.approve(message_id).status_code == 409
    assert world.approve_once(message_id).status_code == 200


def test_withdrawal_stops_an_item_waiting_for_a_second_approval(portal: Portal) -> None:
    world, colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve_once(message_id)
    withdrawn = world.responsible.post_json(f"/api/letters/{message_id}/withdraw")
    assert withdrawn.status_code == 200
    assert world.approve(message_id, facilitator=colleague, claim=False).status_code == 409
    assert recipient_grants(portal) == []


def test_the_author_sees_a_neutral_state_while_a_second_approval_waits(portal: Portal) -> None:
    world, _colleague = high_risk_case(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.approve_once(message_id)
    page = world.responsible.get(f"/letters/{message_id}").text
    assert "Your facilitators are reading it" in page
    assert "Approved" not in page


def test_queue_filter_and_home_count_what_waits_for_a_second_approval(portal: Portal) -> None:
    world, colleague = high_risk_case(portal)
    waiting = world.write_letter(world.responsible, "First.")
    other = world.write_letter(world.responsible, "Second.")
    world.approve_once(waiting)
    home = colleague.get("/home").text
    assert "1 waiting for a second approval" in home
    queue = colleague.get("/queue?state=second").text
    assert waiting in queue
    assert other not in queue
    assert "Give the second approval" in queue
    # The first approver's own first approval is listed, but offers them nothing to give.
    mine = world.facilitator.get("/queue?state=second").text
    assert waiting in mine
    assert "Give the second approval" not in mine
    assert "Waiting for a second approval" in mine


def test_marking_and_unmarking_is_audited_with_its_category(portal: Portal) -> None:
    world, _colleague = high_risk_case(portal)
    world.mark_high_risk("domestic_abuse")
    world.mark_high_risk("none")
    with portal.db() as db:
        tags = list(
            db.scalars(
                select(AuditEvent.tag)
                .where(AuditEvent.subject_id == world.case_id)
                .order_by(AuditEvent.id)
            )
        )
    assert tags[-3:] == [
        "case:high-risk-sexual-harm",
        "case:high-risk-domestic-abuse",
        "case:high-risk-ended",
    ]
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert "One facilitator&#39;s approval is enough" in page or "approval is enough" in page


def test_marking_high_risk_takes_only_a_category(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    for value in ("because he hit her", "", None, 3):
        refused = world.facilitator.post_json(
            f"/api/cases/{world.case_id}/high-risk", {"high_risk": value}
        )
        assert refused.status_code == 400, value
        assert refused.json()["field"] == "high_risk"
    outsider = portal.person(Role.FACILITATOR)
    assert (
        outsider.post_json(
            f"/api/cases/{world.case_id}/high-risk", {"high_risk": "death"}
        ).status_code
        == 404
    )


def test_the_case_page_marks_a_case_high_risk(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    assert "Mark as high-risk" in page
    answer = world.facilitator.request(
        "POST",
        f"/api/cases/{world.case_id}/high-risk",
        data={"high_risk": "sexual_harm"},
        headers={"HX-Request": "true", "X-CSRF-Token": world.facilitator.csrf()},
    )
    assert answer.status_code == 200, answer.text
    assert "This case is <strong>high-risk</strong> (sexual harm)" in answer.text
    assert "everything now needs two facilitators" in answer.text
