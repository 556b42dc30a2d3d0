"""The case's path (portal/cases/path.py, templates/cases/_path.html): stages with their days,
moved forward by a facilitator of the case and audited; closing asks why and ends the path.
Stages and reasons are categories: nothing typed reaches the server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.cases import path
from portal.cases.models import Case, CaseStage, ClosingReason, StageMove
from tests.cases_world import CaseWorld
from tests.factories import Portal
from tests.http.test_case_page import Ids, case_page, htmx


def stage_url(world: CaseWorld) -> str:
    return f"/api/cases/{world.case_id}/stage"


def moves(portal: Portal, world: CaseWorld) -> list[tuple[CaseStage, str]]:
    with portal.db() as db:
        rows = db.execute(
            select(StageMove.stage, StageMove.reached_on)
            .where(StageMove.case_id == world.case_id)
            .order_by(StageMove.recorded_at, StageMove.id)
        ).all()
        return [(stage, day.isoformat()) for stage, day in rows]


def tags_of(portal: Portal, world: CaseWorld) -> list[str]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(AuditEvent.tag)
                .where(AuditEvent.subject_id == world.case_id)
                .order_by(AuditEvent.id)
            )
        )


def test_a_new_case_is_referred_today_and_moves_forward_on_the_days_given(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    assert moves(portal, world) == [(CaseStage.REFERRED, today.isoformat())]
    page = case_page(world)
    assert page.text("path-stage-text").startswith("Referred")
    offered = page.texts["path-stage"]
    assert "First contact" in " ".join(offered)
    assert "Closed" not in " ".join(offered)

    yesterday = (today - timedelta(days=1)).isoformat()
    answer = world.facilitator.post_json(
        stage_url(world), {"stage": "first_contact", "reached_on": today.isoformat()}
    )
    assert answer.json() == {"stage": "first_contact", "reached_on": today.isoformat()}
    # Skipping a stage that did not happen is allowed; going back is not.
    world.facilitator.post_json(stage_url(world), {"stage": "preparation"})
    back = world.facilitator.post_json(stage_url(world), {"stage": "assessment"})
    assert back.status_code == 409
    assert back.json() == {"error": "This case is already at preparation. Please reload the page."}
    # Nor before the day of the stage it is at, nor in the future.
    early = world.facilitator.post_json(
        stage_url(world), {"stage": "communication", "reached_on": yesterday}
    )
    assert early.status_code == 400
    assert early.json()["field"] == "reached_on"
    tomorrow = (today + timedelta(days=1)).isoformat()
    future = world.facilitator.post_json(
        stage_url(world), {"stage": "communication", "reached_on": tomorrow}
    )
    assert (future.status_code, future.json()["field"]) == (400, "reached_on")
    for bad in (
        {"stage": "closed"},
        {"stage": "somewhere"},
        {"stage": "outcome", "reached_on": "3/4"},
    ):
        assert world.facilitator.post_json(stage_url(world), bad).status_code == 400

    assert [stage for stage, _day in moves(portal, world)] == [
        CaseStage.REFERRED,
        CaseStage.FIRST_CONTACT,
        CaseStage.PREPARATION,
    ]
    assert tags_of(portal, world)[-2:] == ["case:stage-first-contact", "case:stage-preparation"]
    # The cases list says where each case is.
    listed = world.facilitator.get("/cases").text
    assert '<td data-label="Stage">Preparation</td>' in listed


def test_the_page_form_answers_with_the_section_and_says_what_changed(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    answer = htmx(world.facilitator, stage_url(world), stage="assessment", reached_on="")
    assert answer.status_code == 200, answer.text
    section = Ids(answer.text)
    assert section.text("path-stage-text").startswith("Assessment, since")
    assert "autofocus" in section.attrs["path-heading"]
    assert "The case is now at assessment." in answer.text
    assert "Referred:" in section.text("path-moves")
    assert "Assessment:" in section.text("path-moves")
    # What is offered next starts after assessment.
    assert "Assessment" not in " ".join(section.texts["path-stage"])
    refused = htmx(world.facilitator, stage_url(world), stage="first_contact")
    assert refused.status_code == 409


def test_closing_asks_why_records_it_and_ends_the_path(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    status_url = f"/api/cases/{world.case_id}/status"
    page = case_page(world)
    assert "required" in page.attrs["closing-reason"]

    no_reason = world.facilitator.post_json(status_url, {"status": "closed"})
    assert (no_reason.status_code, no_reason.json()["field"]) == (400, "closing_reason")
    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        assert case.status.value == "open"

    closed = htmx(world.facilitator, status_url, status="closed", closing_reason="not_suitable")
    assert closed.status_code == 200, closed.text
    answer = Ids(closed.text)
    assert answer.text("case-closing-reason") == "(not suitable after assessment)"
    # The path section comes too, out of band, with no form.
    assert answer.attrs["path-section"]["hx-swap-oob"] == "true"
    assert answer.text("path-stage-text").startswith("Closed: not suitable after assessment")
    assert "path-form" not in answer.attrs

    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        assert (case.stage, case.closing_reason) == (CaseStage.CLOSED, ClosingReason.NOT_SUITABLE)
    assert moves(portal, world)[-1][0] is CaseStage.CLOSED
    assert tags_of(portal, world)[-1] == "case:closed-not-suitable"
    after = world.facilitator.post_json(stage_url(world), {"stage": "outcome"})
    assert (after.status_code, after.json()) == (409, {"error": "This case is closed."})


def test_a_json_client_closes_with_a_reason(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    closed = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/status",
        {"status": "closed", "closing_reason": "person_harmed_withdrew"},
    )
    assert closed.json() == {"status": "closed", "closing_reason": "person_harmed_withdrew"}
    assert "case:closed-person-harmed-withdrew" in tags_of(portal, world)
