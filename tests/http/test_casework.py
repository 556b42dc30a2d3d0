"""A case's records (portal/casework, portal/workspace/case_records.py): risk assessments, case
notes and agreement items for the case's facilitators only, their words sealed to the case key;
what was exchanged at the outcome; agreement follow-ups on the facilitator's home. Both
databases."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal import local_time, protocol
from portal.accounts.models import Role
from portal.app import create_app
from portal.audit.models import AuditEvent
from portal.cases import path
from portal.cases.models import Case, HighRisk
from portal.casework import services as casework
from portal.casework.models import AgreementItem, CaseNote, RiskAssessment
from portal.settings import Settings
from portal.workspace import facilitator_home
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_case_page import Ids, case_page, htmx
from tests.support.statements import Counting, counting_statements


@pytest.fixture
def app(settings: Settings) -> Counting:
    """The app, counting each request's statements (the home's count must stay flat)."""
    return Counting(create_app(settings))


def sealed(world: CaseWorld, purpose: str, text: str) -> str:
    """What the facilitator's browser sends: the text sealed to the case key (case data)."""
    return protocol.b64encode(protocol.seal_case_text(world.case_sk, world.case_id, purpose, text))


def opened(world: CaseWorld, purpose: str, b64: str) -> str:
    return protocol.open_case_text(world.case_sk, world.case_id, purpose, protocol.b64decode(b64))


def assess(world: CaseWorld, level: str, answers: dict[str, str], **extra: Any) -> Any:
    record_id = str(uuid.uuid4())
    body = {
        "assessment_id": record_id,
        "level": level,
        "answers": sealed(world, f"risk-assessment:{record_id}", json.dumps(answers)),
        **extra,
    }
    return world.facilitator.post_json(f"/api/cases/{world.case_id}/risk-assessments", body)


def write_note(world: CaseWorld, text: str, by: Person | None = None) -> Any:
    note_id = str(uuid.uuid4())
    return (by or world.facilitator).post_json(
        f"/api/cases/{world.case_id}/notes",
        {"note_id": note_id, "text": sealed(world, f"facilitator-note:{note_id}", text)},
    )


def add_item(world: CaseWorld, kind: str, due: str, text: str = "Write a letter") -> Any:
    item_id = str(uuid.uuid4())
    return world.facilitator.post_json(
        f"/api/cases/{world.case_id}/agreement",
        {
            "item_id": item_id,
            "kind": kind,
            "due_on": due,
            "description": sealed(world, f"agreement-item:{item_id}", text),
        },
    )


def item_url(world: CaseWorld, item_id: str, what: str) -> str:
    return f"/api/cases/{world.case_id}/agreement/{item_id}/{what}"


def subjects_tagged(portal: Portal, tag: str) -> list[str]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(AuditEvent.subject_id).where(AuditEvent.tag == tag).order_by(AuditEvent.id)
            )
        )


def close(world: CaseWorld) -> None:
    closed = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/status", {"status": "closed", "closing_reason": "completed"}
    )
    assert closed.status_code == 200, closed.text


# ---- risk assessment ---------------------------------------------------------------------------


def test_a_new_assessment_supersedes_the_last_and_high_is_the_cases_high_risk_mark(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    first = assess(world, "medium", {"harmed": "Lives nearby"})
    assert first.json()["level"] == "medium", first.text
    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        assert case.high_risk is None
    # High needs a reason (the case's high-risk category); nothing is saved without one.
    no_reason = assess(world, "high", {"harmed": "x"})
    assert (no_reason.status_code, no_reason.json()["field"]) == (400, "high_risk")
    second = assess(world, "high", {"harmed": "Threats"}, high_risk="domestic_abuse")
    assert second.status_code == 200, second.text
    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        assert case.high_risk is HighRisk.DOMESTIC_ABUSE
        rows = db.scalars(
            select(RiskAssessment).where(RiskAssessment.case_id == world.case_id)
        ).all()
        assert len(rows) == 2
    page = case_page(world)
    assert page.text("risk-level-text").startswith("Risk level: high, assessed on")
    assert "Earlier assessments" in page.text("risk-earlier")
    assert "medium" in page.text("risk-earlier")
    # The latest's answers are on the page sealed, and open with the case key only.
    latest = second.json()["assessment_id"]
    assert page.attrs["risk-answers"]["data-record-id"] == latest
    b64 = page.attrs["risk-answers"]["data-sealed-text"] or ""
    assert json.loads(opened(world, f"risk-assessment:{latest}", b64)) == {"harmed": "Threats"}
    # Low ends the mark: one approval is enough again.
    assert assess(world, "low", {}).status_code == 200
    with portal.db() as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        assert case.high_risk is None
    assert subjects_tagged(portal, "case:risk-assessed-high") == [latest]
    assert "case:high-risk-domestic-abuse" in [
        tag for tag in subjects_tagged_tags(portal, world.case_id)
    ]


def subjects_tagged_tags(portal: Portal, subject_id: str) -> list[str]:
    with portal.db() as db:
        return list(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == subject_id)))


def test_the_assessment_form_answers_with_its_section_and_the_high_risk_section(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    record_id = str(uuid.uuid4())
    answer = htmx(
        world.facilitator,
        f"/api/cases/{world.case_id}/risk-assessments",
        sealed=True,
        level="high",
        high_risk="sexual_harm",
        assessment_id=record_id,
        answers=sealed(world, f"risk-assessment:{record_id}", "{}"),
    )
    assert answer.status_code == 200, answer.text
    section = Ids(answer.text)
    assert "autofocus" in section.attrs["risk-level-text"]
    assert section.attrs["high-risk-section"]["hx-swap-oob"] == "true"
    assert "high-risk" in section.text("high-risk-text")
    assert "the risk is high" in answer.text


def test_bad_assessments_get_400_and_save_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    url = f"/api/cases/{world.case_id}/risk-assessments"
    good_id = str(uuid.uuid4())
    for body, field in (
        ({"level": "extreme", "assessment_id": good_id, "answers": "AAAA"}, "level"),
        ({"level": "low", "assessment_id": "nope", "answers": "AAAA"}, "assessment_id"),
        ({"level": "low", "assessment_id": good_id, "answers": "!!"}, "answers"),
        ({"level": "low", "assessment_id": good_id}, "answers"),
        ({"level": "low", "assessment_id": good_id, "answers": "A" * 200_000}, "answers"),
        (
            {"level": "high", "high_risk": "vibes", "assessment_id": good_id, "answers": "AAAA"},
            "high_risk",
        ),
    ):
        refused = world.facilitator.post_json(url, body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["field"] == field
    assert assess(world, "low", {}).status_code == 200
    with portal.db() as db:
        assert len(db.scalars(select(RiskAssessment)).all()) == 1


# ---- notes -------------------------------------------------------------------------------------


def test_notes_are_listed_newest_first_in_pages_and_open_with_the_case_key(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    colleague = portal.person(Role.FACILITATOR)
    world.add_colleague(colleague)
    ids = [write_note(world, f"Note {n}").json()["note_id"] for n in range(21)]
    ids.append(write_note(world, "From a colleague", by=colleague).json()["note_id"])
    page = world.facilitator.get(f"/cases/{world.case_id}").text
    shown = [
        chunk.split('"')[0] for chunk in page.split('data-sealed="case-note" data-record-id="')[1:]
    ]
    assert shown == list(reversed(ids))[:20]
    assert "Page 1 of 2" in page
    assert colleague.name in page
    second = world.facilitator.get(
        f"/cases/{world.case_id}/notes?page=2", headers={"HX-Request": "true"}
    )
    assert second.text.lstrip().startswith("{#") is False
    assert f'data-record-id="{ids[1]}"' in second.text
    assert f'data-record-id="{ids[0]}"' in second.text
    assert 'hx-target="#notes-section"' in second.text
    # A plain request (no script) goes to the case page at that page of notes.
    plain = world.facilitator.get(f"/cases/{world.case_id}/notes?page=2", follow_redirects=False)
    assert plain.status_code == 303
    assert plain.headers["location"].endswith(f"/cases/{world.case_id}?notes=2")
    with portal.db() as db:
        note = db.get(CaseNote, ids[5])
        assert note is not None
        assert (
            opened(world, f"facilitator-note:{ids[5]}", protocol.b64encode(note.text)) == "Note 5"
        )
    assert subjects_tagged(portal, "case:note-written") == ids


def test_a_note_sent_twice_is_kept_once(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    note_id = str(uuid.uuid4())
    body = {"note_id": note_id, "text": sealed(world, f"facilitator-note:{note_id}", "Once")}
    url = f"/api/cases/{world.case_id}/notes"
    assert world.facilitator.post_json(url, body).status_code == 200
    assert world.facilitator.post_json(url, body).status_code == 409
    for bad in ({"note_id": note_id}, {"text": "AAAA"}, {"note_id": str(uuid.uuid4()), "text": 5}):
        assert world.facilitator.post_json(url, bad).status_code == 400
    with portal.db() as db:
        assert len(db.scalars(select(CaseNote)).all()) == 1


# ---- agreement items ---------------------------------------------------------------------------


def test_items_are_added_completed_and_removed_with_audit_rows(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    apology = add_item(world, "apology", (today + timedelta(days=3)).isoformat())
    assert apology.status_code == 200, apology.text
    apology_id = apology.json()["item_id"]
    repair = add_item(world, "reparation", (today - timedelta(days=2)).isoformat(), "Fix fence")
    repair_id = repair.json()["item_id"]
    page = case_page(world)
    assert "(overdue)" in page.text(f"item-{repair_id}")
    assert "An apology" in page.text(f"item-{apology_id}")

    done = world.facilitator.post_json(item_url(world, apology_id, "completed"), {})
    assert done.json()["completed_on"] == today.isoformat()
    again = world.facilitator.post_json(item_url(world, apology_id, "completed"), {})
    assert again.status_code == 409
    future = world.facilitator.post_json(
        item_url(world, repair_id, "completed"),
        {"completed_on": (today + timedelta(days=1)).isoformat()},
    )
    assert (future.status_code, future.json()["field"]) == (400, "completed_on")

    removed = htmx(world.facilitator, item_url(world, repair_id, "remove"))
    assert removed.status_code == 200
    assert "The agreement item was removed." in removed.text
    assert f"item-{repair_id}" not in removed.text
    assert world.facilitator.post_json(item_url(world, repair_id, "remove"), {}).status_code == 404
    with portal.db() as db:
        row = db.get(AgreementItem, repair_id)
        assert row is not None
        assert row.removed_at is not None
        assert row.description == b""
    assert subjects_tagged(portal, "agreement:item-added") == [apology_id, repair_id]
    assert subjects_tagged(portal, "agreement:item-completed") == [apology_id]
    assert subjects_tagged(portal, "agreement:item-removed") == [repair_id]
    # The case's audit trail names them (ids and actions, never words).
    trail = world.facilitator.get(f"/cases/{world.case_id}/audit").text
    assert "Agreement item added" in trail
    assert f"Agreement item {repair_id[:8]}" in trail


def test_a_new_due_date_is_agreed_with_the_first_kept_beside_it_and_audited(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    first, later = today - timedelta(days=3), today + timedelta(days=30)
    item_id = add_item(world, "reparation", first.isoformat()).json()["item_id"]
    page = case_page(world)
    assert "(overdue)" in page.text(f"item-{item_id}")
    assert f"first-due-{item_id}" not in page.attrs
    assert f"change-due-{item_id}" in page.attrs

    moved = htmx(world.facilitator, item_url(world, item_id, "due"), due_on=later.isoformat())
    assert moved.status_code == 200, moved.text
    answer = Ids(moved.text)
    assert f"The new due date is {local_time.calendar_day(later)}." in moved.text
    listed = answer.text(f"item-{item_id}")
    assert f"due {local_time.calendar_day(later)}" in listed
    assert "(overdue)" not in listed
    assert (
        answer.text(f"first-due-{item_id}")
        == f"(first agreed for {local_time.calendar_day(first)})"
    )
    # Moved again, the day first agreed stays; moved back to it, there is nothing to say.
    again = (today + timedelta(days=60)).isoformat()
    twice = world.facilitator.post_json(item_url(world, item_id, "due"), {"due_on": again})
    assert twice.json() == {"item_id": item_id, "due_on": again, "first_due_on": first.isoformat()}
    back = world.facilitator.post_json(
        item_url(world, item_id, "due"), {"due_on": first.isoformat()}
    )
    assert back.json()["first_due_on"] is None
    assert f"first-due-{item_id}" not in case_page(world).attrs
    with portal.db() as db:
        row = db.get(AgreementItem, item_id)
        assert row is not None
        assert (row.due_on, row.first_due_on) == (first, None)
    changes = subjects_tagged(portal, "agreement:item-due-date-changed")
    assert changes == [item_id] * 3
    trail = world.facilitator.get(f"/cases/{world.case_id}/audit").text
    assert "Agreement item due date changed" in trail


def test_a_new_due_date_moves_the_item_on_the_follow_up_lists(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    late = add_item(world, "apology", (today - timedelta(days=10)).isoformat()).json()["item_id"]
    assert f"follow-up-{late}" in Ids(world.facilitator.get("/home").text).attrs
    next_month = (today + timedelta(days=30)).isoformat()
    assert (
        world.facilitator.post_json(item_url(world, late, "due"), {"due_on": next_month})
    ).status_code == 200
    assert "follow-ups" not in Ids(world.facilitator.get("/home").text).attrs
    assert "no-follow-ups" in Ids(world.facilitator.get("/follow-ups").text).attrs
    # Brought forward into the coming week, it is followed up again.
    soon = (today + timedelta(days=2)).isoformat()
    world.facilitator.post_json(item_url(world, late, "due"), {"due_on": soon})
    assert f"follow-up-{late}" in Ids(world.facilitator.get("/follow-ups").text).attrs


def test_bad_new_due_dates_get_400_and_change_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    due = today + timedelta(days=5)
    item_id = add_item(world, "undertaking", due.isoformat()).json()["item_id"]
    url = item_url(world, item_id, "due")
    for body in (
        {},
        {"due_on": ""},
        {"due_on": "31/12/2027"},
        {"due_on": "2027-02-30"},
        {"due_on": (today + timedelta(days=3000)).isoformat()},
        {"due_on": (today - timedelta(days=400)).isoformat()},
        {"due_on": due.isoformat()},  # the day it is already due
    ):
        refused = world.facilitator.post_json(url, body)
        assert (refused.status_code, refused.json()["field"]) == (400, "due_on"), body
    same_day = htmx(world.facilitator, url, due_on=due.isoformat())
    assert same_day.status_code == 400
    assert "It is already due on that day." in same_day.text
    # A completed item keeps its day; a removed one is not found.
    world.facilitator.post_json(item_url(world, item_id, "completed"), {})
    tomorrow = {"due_on": (today + timedelta(days=1)).isoformat()}
    assert world.facilitator.post_json(url, tomorrow).status_code == 409
    gone = add_item(world, "other", due.isoformat()).json()["item_id"]
    world.facilitator.post_json(item_url(world, gone, "remove"), {})
    assert world.facilitator.post_json(item_url(world, gone, "due"), tomorrow).status_code == 404
    assert f"change-due-{item_id}" not in case_page(world).attrs  # completed: no form
    with portal.db() as db:
        row = db.get(AgreementItem, item_id)
        assert row is not None
        assert (row.due_on, row.first_due_on) == (due, None)
    assert subjects_tagged(portal, "agreement:item-due-date-changed") == []


def test_bad_items_get_400_and_save_nothing(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    url = f"/api/cases/{world.case_id}/agreement"
    item_id = str(uuid.uuid4())
    good = {
        "item_id": item_id,
        "kind": "apology",
        "due_on": today.isoformat(),
        "description": "AAAA",
    }
    for change, field in (
        ({"kind": "hug"}, "kind"),
        ({"due_on": ""}, "due_on"),
        ({"due_on": "31/12/2027"}, "due_on"),
        ({"due_on": "2027-02-30"}, "due_on"),
        ({"due_on": (today + timedelta(days=3000)).isoformat()}, "due_on"),
        ({"description": None}, "description"),
        ({"item_id": "1"}, "item_id"),
    ):
        refused = world.facilitator.post_json(url, {**good, **change})
        assert refused.status_code == 400, (change, refused.text)
        assert refused.json()["field"] == field
    missing = world.facilitator.post_json(item_url(world, str(uuid.uuid4()), "completed"), {})
    assert missing.status_code == 404
    with portal.db() as db:
        assert db.scalars(select(AgreementItem)).all() == []


def test_a_closed_case_locks_every_record(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    item_id = add_item(world, "undertaking", path.today().isoformat()).json()["item_id"]
    write_note(world, "Before closing")
    close(world)
    assert assess(world, "low", {}).status_code == 409
    assert write_note(world, "After").status_code == 409
    assert add_item(world, "other", path.today().isoformat()).status_code == 409
    assert world.facilitator.post_json(item_url(world, item_id, "completed"), {}).status_code == 409
    assert world.facilitator.post_json(item_url(world, item_id, "remove"), {}).status_code == 409
    tomorrow = (path.today() + timedelta(days=1)).isoformat()
    moved = world.facilitator.post_json(item_url(world, item_id, "due"), {"due_on": tomorrow})
    assert moved.status_code == 409
    page = case_page(world)
    assert f"change-due-{item_id}" not in page.attrs
    assert "risk-form" not in page.attrs
    assert "note-form" not in page.attrs
    assert "agreement-form" not in page.attrs
    assert f"complete-{item_id}" not in page.attrs
    assert f"item-{item_id}" in page.attrs  # kept as it was
    assert "notes-list" in page.attrs


def test_only_the_cases_facilitators_reach_its_records(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    other = CaseWorld.build(portal)
    item_id = add_item(world, "apology", path.today().isoformat()).json()["item_id"]
    for person in (other.facilitator, world.harmed, world.responsible, portal.service_manager()):
        for url in (
            f"/api/cases/{world.case_id}/notes",
            f"/api/cases/{world.case_id}/risk-assessments",
            f"/api/cases/{world.case_id}/agreement",
            item_url(world, item_id, "completed"),
            item_url(world, item_id, "due"),
            item_url(world, item_id, "remove"),
        ):
            assert person.post_json(url, {}).status_code in {403, 404}, (url, person.name)
        assert person.get(f"/cases/{world.case_id}/notes").status_code in {403, 404}
    # An item of another case is not found through this one.
    assert (
        other.facilitator.post_json(
            f"/api/cases/{other.case_id}/agreement/{item_id}/completed", {}
        ).status_code
        == 404
    )


# ---- outcome -----------------------------------------------------------------------------------


def test_the_outcome_shows_what_was_exchanged_each_way_from_the_outcome_stage(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    released = world.write_letter(world.responsible, "Sorry.")
    assert world.approve(released).status_code == 200
    world.open_letter(world.harmed, released)
    world.write_letter(world.responsible, "Waiting.")
    world.write_letter(world.harmed, "Thank you.")
    taken_back = world.write_letter(world.harmed, "On second thoughts.")
    withdrawn = world.harmed.post_json(f"/api/letters/{taken_back}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert "outcome-section" not in case_page(world).attrs
    moved = world.facilitator.post_json(f"/api/cases/{world.case_id}/stage", {"stage": "outcome"})
    assert moved.status_code == 200, moved.text
    page = case_page(world)
    from_responsible = page.text("outcome-section")
    assert "From the person responsible to the person harmed" in from_responsible
    html = world.facilitator.get(f"/cases/{world.case_id}").text
    section = html.split('id="outcome-section"')[1].split("</section>")[0]
    harmed_part, responsible_part = section.split('id="outcome-person_responsible"')
    # What the author took back is not reported as sent.
    assert '<td data-label="Sent">1</td>' in harmed_part
    assert '<td data-label="Withdrawn">1</td>' in harmed_part
    assert '<td data-label="Passed on">0</td>' in harmed_part
    assert '<td data-label="Sent">2</td>' in responsible_part
    assert '<td data-label="Withdrawn">0</td>' in responsible_part
    assert '<td data-label="Passed on">1</td>' in responsible_part
    assert '<td data-label="Opened">1</td>' in responsible_part
    close(world)
    assert "outcome-section" in case_page(world).attrs


# ---- the facilitator's home ---------------------------------------------------------------------


def test_the_home_lists_items_due_within_a_week_or_overdue_not_completed(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    soon = add_item(world, "apology", (today + timedelta(days=7)).isoformat()).json()["item_id"]
    late = add_item(world, "reparation", (today - timedelta(days=30)).isoformat()).json()["item_id"]
    later = add_item(world, "undertaking", (today + timedelta(days=8)).isoformat()).json()[
        "item_id"
    ]
    done = add_item(world, "other", today.isoformat()).json()["item_id"]
    world.facilitator.post_json(item_url(world, done, "completed"), {})
    home = Ids(world.facilitator.get("/home").text)
    listed = home.text("follow-ups")
    assert "Agreement follow-ups" in listed
    assert f"Case {world.reference}" in listed
    for words in ("an apology, due", "reparation, overdue since"):
        assert words in listed
    assert "an undertaking" not in listed
    assert "something else" not in listed
    html = world.facilitator.get("/home").text
    assert html.index(f"follow-up-{late}") < html.index(f"follow-up-{soon}")
    assert f"follow-up-{later}" not in html
    # Another facilitator's home does not list them; a closed case's items are not followed up.
    assert "follow-ups" not in Ids(portal.person(Role.FACILITATOR).get("/home").text).attrs
    close(world)
    assert "follow-ups" not in Ids(world.facilitator.get("/home").text).attrs


def overdue_items(world: CaseWorld, count: int) -> list[str]:
    """``count`` agreement items, due one a day up to yesterday: their ids, the soonest due
    first."""
    today = path.today()
    return [
        add_item(world, "apology", (today - timedelta(days=count - n)).isoformat()).json()[
            "item_id"
        ]
        for n in range(count)
    ]


def test_the_home_shows_the_soonest_follow_ups_and_links_to_the_rest_when_there_are_more(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    shown = facilitator_home.FOLLOW_UPS_SHOWN
    ids = overdue_items(world, shown)
    home = Ids(world.facilitator.get("/home").text)
    assert [f"follow-up-{item}" in home.attrs for item in ids] == [True] * shown
    assert "more-follow-ups" not in home.attrs  # all of them fit
    latest = add_item(world, "reparation", path.today().isoformat()).json()["item_id"]
    home = Ids(world.facilitator.get("/home").text)
    # The soonest due shown; the one due last is not, and the home says there are more.
    assert f"follow-up-{latest}" not in home.attrs
    assert [f"follow-up-{item}" in home.attrs for item in ids] == [True] * shown
    assert f"These are the {shown} due soonest, and there are more." in home.text("more-follow-ups")
    assert 'href="/follow-ups"' in world.facilitator.get("/home").text


def test_the_follow_ups_page_lists_every_item_to_follow_up_a_page_at_a_time(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    today = path.today()
    size = casework.FOLLOW_UPS_PAGE
    ids = overdue_items(world, size + 2)
    not_yet = add_item(world, "undertaking", (today + timedelta(days=8)).isoformat()).json()
    done = add_item(world, "other", today.isoformat()).json()["item_id"]
    world.facilitator.post_json(item_url(world, done, "completed"), {})
    removed = add_item(world, "other", today.isoformat()).json()["item_id"]
    world.facilitator.post_json(item_url(world, removed, "remove"), {})

    first = world.facilitator.get("/follow-ups")
    assert first.status_code == 200
    page = Ids(first.text)
    assert f"{size + 2} to follow up: 1 to {size} here." in page.text("follow-ups-count")
    listed = [i for i in page.attrs if i.startswith("follow-up-")]
    # The soonest due first, a page of them; the rest on the next page.
    assert listed == [f"follow-up-{item}" for item in ids[:size]]
    assert f"Case {world.reference}: an apology, overdue since" in page.text(listed[0])
    assert 'href="/follow-ups?page=2"' in first.text
    second = Ids(world.facilitator.get("/follow-ups?page=2").text)
    assert [i for i in second.attrs if i.startswith("follow-up-")] == [
        f"follow-up-{item}" for item in ids[size:]
    ]
    # Past the end: the last page, never an error.
    past = Ids(world.facilitator.get("/follow-ups?page=9").text)
    assert "follow-up-" + ids[-1] in past.attrs
    everything = first.text + world.facilitator.get("/follow-ups?page=2").text
    for left_out in (not_yet["item_id"], done, removed):
        assert f"follow-up-{left_out}" not in everything
    # Another facilitator has nothing to follow up; a closed case's items are not followed up.
    other = Ids(portal.person(Role.FACILITATOR).get("/follow-ups").text)
    assert "no-follow-ups" in other.attrs
    assert not [i for i in other.attrs if i.startswith("follow-up-")]
    close(world)
    assert "no-follow-ups" in Ids(world.facilitator.get("/follow-ups").text).attrs


def test_the_home_runs_as_many_statements_with_follow_ups_as_without(
    portal: Portal, app: Counting
) -> None:
    world = CaseWorld.build(portal)
    with counting_statements():
        before = min(_count(world.facilitator, app) for _ in range(3))
        for days in range(-3, 5):
            add_item(world, "apology", (path.today() + timedelta(days=days)).isoformat())
        after = min(_count(world.facilitator, app) for _ in range(3))
    assert "Agreement follow-ups" in world.facilitator.get("/home").text
    assert after == before


def _count(person: Person, app: Counting) -> int:
    assert person.get("/home").status_code == 200
    return app.last.count
