"""Anonymous feedback after a case closes (portal/feedback/), on both databases: offered on the
homes of that case's participants and supporters only once it is closed, answered or dismissed
once, kept with no link back to the case, the person or the time, its free text sealed to the
referral key, and counted in the report only in groups large enough."""

from __future__ import annotations

import csv
import uuid
from typing import Any

import pytest
from sqlalchemy import inspect, select

from portal import protocol
from portal.feedback import services
from portal.feedback.models import (
    FeedbackAnswer,
    FeedbackOffer,
    OfferOutcome,
    Reply,
    RoleCategory,
)
from portal.referrals.services import SEALED_SIZES
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.http.test_case_page import htmx
from tests.http.test_referrals import Service, set_up

b64 = protocol.b64encode
OFFER = 'id="feedback-offer"'


def close(world: CaseWorld) -> None:
    closed = world.facilitator.post_json(
        f"/api/cases/{world.case_id}/status", {"status": "closed", "closing_reason": "completed"}
    )
    assert closed.status_code == 200, closed.text


def answers(portal: Portal) -> list[FeedbackAnswer]:
    with portal.db() as db:
        return list(db.scalars(select(FeedbackAnswer)))


def offers(portal: Portal) -> dict[str, OfferOutcome]:
    with portal.db() as db:
        return {o.account_id: o.outcome for o in db.scalars(select(FeedbackOffer))}


def sealed_text(service: Service, text: str) -> dict[str, str]:
    sealed = protocol.seal_referral(
        service.public_key, service.key_id, {"form": "feedback", "text": text}
    )
    return {"key_id": service.key_id, "ciphertext": b64(sealed)}


def test_the_offer_appears_once_the_case_closes_and_only_to_its_people(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    supporter, _ = world.add_supporter(world.harmed)
    removed, removed_place = world.add_supporter(world.responsible)
    taken_away = world.responsible.post_json(f"/api/my/supporters/{removed_place}/revoke")
    assert taken_away.status_code == 200, taken_away.text
    elsewhere = CaseWorld.build(portal, names=("Kim", "Lee"))
    people = (world.harmed, world.responsible, supporter)
    for person in people:
        assert OFFER not in person.get("/home").text
        assert person.get("/feedback").status_code == 404
        assert person.post_json("/api/feedback", {"satisfied": "yes"}).status_code == 404

    close(world)

    for person in people:
        home = person.get("/home")
        assert OFFER in home.text, home.text
        assert 'href="/feedback"' in home.text
        assert person.get("/feedback").status_code == 200
    # Someone whose access was taken away is not asked, nor are the people of an open case.
    for person in (removed, elsewhere.harmed, elsewhere.responsible):
        assert OFFER not in person.get("/home").text
        assert person.get("/feedback").status_code == 404
    assert OFFER not in world.facilitator.get("/home").text
    assert world.facilitator.get("/feedback").status_code == 403  # not a route for staff


def test_nobody_who_withdrew_is_asked_nor_their_supporters(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    supporter, _ = world.add_supporter(world.responsible)
    others_supporter, _ = world.add_supporter(world.harmed)
    assert world.responsible.post_json("/api/withdraw").status_code == 200

    close(world)

    for person in (world.responsible, supporter):
        assert OFFER not in person.get("/home").text
        assert person.get("/feedback").status_code == 404
        assert person.post_json("/api/feedback", {"satisfied": "no"}).status_code == 404
        assert person.post_json("/api/feedback/dismiss").status_code == 404
    # The other side, who did not withdraw, is asked as usual.
    for person in (world.harmed, others_supporter):
        assert OFFER in person.get("/home").text
    assert answers(portal) == []
    assert offers(portal) == {}


def test_an_answer_is_kept_once_with_its_month_and_role_category_only(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    supporter, _ = world.add_supporter(world.responsible)
    close(world)

    given = world.harmed.post_json(
        "/api/feedback", {"satisfied": "yes", "recommend": "partly", "better_able": ""}
    )
    assert (given.status_code, given.json()) == (201, {"answered": True})
    by_supporter = htmx(supporter, "/api/feedback", recommend="no")
    assert by_supporter.status_code == 200
    assert 'id="feedback-thanks"' in by_supporter.text

    again = world.harmed.post_json("/api/feedback", {"satisfied": "no"})
    assert again.status_code == 409
    assert again.json()["error"] == services.ALREADY
    assert world.harmed.post_json("/api/feedback/dismiss").status_code == 409
    assert OFFER not in world.harmed.get("/home").text
    assert world.harmed.get("/feedback").status_code == 404

    kept = sorted(answers(portal), key=lambda a: a.role.value)
    assert [(a.role, a.satisfied, a.recommend, a.better_able) for a in kept] == [
        (RoleCategory.PERSON_HARMED, Reply.YES, Reply.PARTLY, None),
        (RoleCategory.SUPPORTER, None, Reply.NO, None),
    ]
    assert {a.month for a in kept} == {services.this_month()}
    assert all(a.sealed_text is None and a.key_id is None for a in kept)
    assert offers(portal) == {
        world.harmed.account_id: OfferOutcome.ANSWERED,
        supporter.account_id: OfferOutcome.ANSWERED,
    }
    assert OFFER in world.responsible.get("/home").text  # their own offer is still open


def test_dismissing_is_kept_and_never_asked_again(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    close(world)
    dismissed = htmx(world.responsible, "/api/feedback/dismiss")
    assert dismissed.status_code == 200
    assert "We will not ask again." in dismissed.text
    assert OFFER not in world.responsible.get("/home").text
    assert world.responsible.post_json("/api/feedback/dismiss").status_code == 409
    assert world.responsible.post_json("/api/feedback", {"satisfied": "yes"}).status_code == 409
    assert offers(portal) == {world.responsible.account_id: OfferOutcome.DISMISSED}
    assert answers(portal) == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"satisfied": "maybe"}, 400, "satisfied"),
        ({"better_able": 3}, 400, "better_able"),
        ({"key_id": str(uuid.uuid4())}, 400, "ciphertext"),  # a key but no text
        ({"ciphertext": b64(b"x" * 2151)}, 400, "ciphertext"),  # text but no key
        ({"key_id": "not-a-key", "ciphertext": "AAAA"}, 400, "key_id"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_leaves_the_offer_open(
    portal: Portal, body: dict[str, Any], status: int, field: str
) -> None:
    world = CaseWorld.build(portal)
    close(world)
    refused = world.harmed.post_json("/api/feedback", body)
    assert refused.status_code == status, refused.text
    assert refused.json().get("field") == field
    assert answers(portal) == []
    assert offers(portal) == {}
    assert OFFER in world.harmed.get("/home").text


def test_free_text_is_offered_only_with_a_referral_key_and_kept_sealed_to_it(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    close(world)
    without_key = world.harmed.get("/feedback").text
    assert 'id="feedback-text"' not in without_key
    assert "data-seal" not in without_key
    # No key: the server refuses any text, since nobody could read it.
    unsealable = world.harmed.post_json(
        "/api/feedback", {"key_id": str(uuid.uuid4()), "ciphertext": b64(b"x" * min(SEALED_SIZES))}
    )
    assert unsealable.status_code == 409

    service = set_up(portal)
    form = world.harmed.get("/feedback").text
    assert 'id="feedback-text"' in form
    assert 'data-seal="feedback"' in form
    assert 'name="text"' not in form  # the words never leave the browser in clear
    wrong_size = world.harmed.post_json(
        "/api/feedback", {"key_id": service.key_id, "ciphertext": b64(b"x" * 100)}
    )
    assert wrong_size.status_code == 400
    given = world.harmed.post_json(
        "/api/feedback", {"satisfied": "yes", **sealed_text(service, "It helped, thank you")}
    )
    assert given.status_code == 201, given.text

    [kept] = answers(portal)
    assert kept.key_id == service.key_id
    assert kept.sealed_text is not None
    assert b"It helped" not in kept.sealed_text
    opened = protocol.open_referral(service.secret_key, service.key_id, kept.sealed_text)
    assert opened == {"form": "feedback", "text": "It helped, thank you"}


def test_the_tables_hold_nothing_that_joins_an_answer_back_to_a_person(portal: Portal) -> None:
    worlds = [CaseWorld.build(portal, names=(f"A{n}", f"B{n}")) for n in range(3)]
    for world in worlds:
        close(world)
        assert world.harmed.post_json("/api/feedback", {"satisfied": "yes"}).status_code == 201

    with portal.db() as db:
        schema = inspect(db.get_bind())
        answer_columns = {c["name"] for c in schema.get_columns("feedback_answers")}
        offer_columns = {c["name"] for c in schema.get_columns("feedback_offers")}
        answer_keys = schema.get_foreign_keys("feedback_answers")
    assert answer_columns == {
        "id",
        "month",
        "role",
        "satisfied",
        "recommend",
        "better_able",
        "key_id",
        "sealed_text",
    }
    # Nothing names a case, a person or an account, and no time is finer than the month.
    assert [fk["referred_table"] for fk in answer_keys] == ["referral_keys"]
    assert offer_columns == {"case_id", "account_id", "outcome"}
    assert answer_columns & offer_columns == set()  # no column to join on
    kept = answers(portal)
    assert len(kept) == 3
    assert all(uuid.UUID(a.id).version == 4 for a in kept)  # random, not in time order
    assert len({(a.month, a.role, a.satisfied) for a in kept}) == 1  # indistinguishable


def test_the_manager_reads_what_participants_said_as_ciphertext_in_their_browser(
    portal: Portal,
) -> None:
    service = set_up(portal)
    world = CaseWorld.build(portal)
    close(world)
    text = sealed_text(service, "Thank you")
    assert world.harmed.post_json("/api/feedback", text).status_code == 201
    assert world.responsible.post_json("/api/feedback", {"satisfied": "no"}).status_code == 201

    page = service.manager.get("/staff/reports/feedback")
    assert page.status_code == 200
    assert page.text.count("data-feedback-text") == 1  # only answers with words
    assert f'data-ciphertext="{text["ciphertext"]}"' in page.text
    assert f"Given in {services.this_month()}" in page.text
    assert "Thank you" not in page.text
    assert 'href="/staff/reports/feedback"' in service.manager.get("/staff/reports").text
    # A manager who does not hold the referral key is told so, and sent no ciphertext.
    other: Person = portal.service_manager()
    elsewhere = other.get("/staff/reports/feedback")
    assert elsewhere.status_code == 200
    assert 'id="feedback-texts-none"' in elsewhere.text
    assert "data-ciphertext" not in elsewhere.text
    assert world.facilitator.get("/staff/reports/feedback").status_code == 403


def test_what_participants_said_comes_a_page_at_a_time_each_text_once(portal: Portal) -> None:
    service = set_up(portal)
    given = services.TEXTS_PAGE + 5
    with portal.db() as db:
        for number in range(given):
            db.add(
                FeedbackAnswer(
                    month="2026-11",
                    role=RoleCategory.PERSON_HARMED,
                    key_id=service.key_id,
                    sealed_text=f"sealed {number:03d}".encode(),
                )
            )
        db.commit()

    def ciphertexts(page: str) -> list[str]:
        shown = service.manager.get(f"/staff/reports/feedback?page={page}")
        assert shown.status_code == 200
        return [part.split('"', 1)[0] for part in shown.text.split('data-ciphertext="')[1:]]

    first, second = ciphertexts("1"), ciphertexts("2")
    assert len(first) == services.TEXTS_PAGE
    assert len(second) == 5
    assert sorted(first + second) == sorted(
        b64(f"sealed {number:03d}".encode()) for number in range(given)
    )
    # An old link past the end, or something that is not a page number, lands on a real page.
    assert sorted(ciphertexts("9")) == sorted(second)
    assert len(ciphertexts("x")) == services.TEXTS_PAGE
    assert "Page 1 of 2" in service.manager.get("/staff/reports/feedback").text


def _seed(portal: Portal, shape: dict[RoleCategory, list[Reply]], month: str) -> None:
    with portal.db() as db:
        for role, replies in shape.items():
            for reply in replies:
                db.add(FeedbackAnswer(month=month, role=role, satisfied=reply))
        db.commit()


def test_report_figures_match_a_seeded_service_and_small_groups_are_held_back(
    portal: Portal,
) -> None:
    manager = portal.service_manager()
    yes, no, partly = Reply.YES, Reply.NO, Reply.PARTLY
    _seed(
        portal,
        {
            RoleCategory.PERSON_HARMED: [yes, yes, yes, yes, yes, no],
            RoleCategory.PERSON_RESPONSIBLE: [yes, partly, no, no, yes, yes, yes, yes],
            RoleCategory.SUPPORTER: [yes, yes],
        },
        "2027-02",
    )
    _seed(portal, {RoleCategory.SUPPORTER: [no] * 4}, "2027-04")  # outside the period

    period = "from=2027-01-01&to=2027-03-31"
    exported = manager.get(f"/staff/reports.csv?{period}")
    rows = {(r[0], r[1]): r[2] for r in csv.reader(exported.text.splitlines())}
    satisfied = "Participants' feedback: satisfied with the process"
    assert rows[(satisfied, "Person harmed")] == "83% said yes (5 of 6)"
    assert rows[(satisfied, "Person responsible")] == "62% said yes (5 of 8)"
    assert rows[(satisfied, "Supporter")] == "fewer than 5 answers"
    # All 16 would give the 2 supporters away by subtraction.
    assert rows[(satisfied, "All who answered")] == "not shown, to protect a small group"
    recommend = "Participants' feedback: would recommend the service"
    assert rows[(recommend, "Person harmed")] == "fewer than 5 answers"  # nobody answered it

    page = manager.get(f"/staff/reports?{period}")
    assert page.status_code == 200
    assert 'role="img"' in page.text
    assert '<title id="chart-satisfaction-1-title">' in page.text
    assert "<td>83% said yes (5 of 6)</td>" in page.text
    assert "style=" not in page.text

    printed = manager.get(f"/staff/reports/print?{period}")
    assert printed.status_code == 200
    assert "83% said yes (5 of 6)" in printed.text
    assert "quick-exit" not in printed.text
    assert "<nav" not in printed.text
    assert "<script" not in printed.text
    assert "style=" not in printed.text
    assert manager.get("/staff/reports/print?from=2027-02-30").status_code == 400
