"""portal/casework/rules.py and outcome.exchanged: pure, no database."""

from __future__ import annotations

from datetime import date, timedelta

from portal.cases.models import CaseCondition, Format, Side
from portal.casework import outcome, rules
from portal.casework.rules import ItemAction
from portal.messages.states import MessageState

TODAY = date(2027, 3, 10)


def test_a_closed_case_refuses_every_change_and_a_paused_one_none() -> None:
    assert rules.records_refusal(CaseCondition.CLOSED) == rules.CLOSED
    assert rules.records_refusal(CaseCondition.PAUSED) is None
    for action in ItemAction:
        assert rules.item_refusal(CaseCondition.CLOSED, False, action) == rules.CLOSED
        assert rules.item_refusal(CaseCondition.OPEN, False, action) is None
    assert rules.item_refusal(CaseCondition.OPEN, True, ItemAction.COMPLETE) is not None
    assert rules.item_refusal(CaseCondition.OPEN, True, ItemAction.CHANGE_DUE) is not None
    assert rules.item_refusal(CaseCondition.OPEN, True, ItemAction.REMOVE) is None


def test_due_and_completed_days_stay_near_today() -> None:
    assert rules.due_refusal(TODAY - timedelta(days=30), TODAY) is None
    assert rules.due_refusal(TODAY - timedelta(days=400), TODAY) is not None
    assert rules.due_refusal(TODAY + timedelta(days=4 * 365), TODAY) is None
    assert rules.due_refusal(TODAY + timedelta(days=6 * 366), TODAY) is not None
    assert rules.completed_refusal(TODAY, TODAY) is None
    assert rules.completed_refusal(TODAY + timedelta(days=1), TODAY) is not None
    assert rules.completed_refusal(TODAY - timedelta(days=400), TODAY) is not None


def test_a_new_due_day_must_differ_and_stay_near_today() -> None:
    due = TODAY + timedelta(days=3)
    assert rules.new_due_refusal(due, due, TODAY) is not None
    assert rules.new_due_refusal(due + timedelta(days=1), due, TODAY) is None
    assert rules.new_due_refusal(TODAY - timedelta(days=400), due, TODAY) is not None
    assert rules.new_due_refusal(TODAY + timedelta(days=6 * 366), due, TODAY) is not None


def test_the_day_first_agreed_is_kept_until_the_item_moves_back_to_it() -> None:
    first, later, latest = TODAY, TODAY + timedelta(days=5), TODAY + timedelta(days=9)
    assert rules.first_due_after_change(None, first, later) == first
    assert rules.first_due_after_change(first, later, latest) == first
    assert rules.first_due_after_change(first, latest, first) is None


def test_follow_up_covers_a_week_and_overdue_means_past_due_and_not_done() -> None:
    assert rules.follow_up_by(TODAY) == TODAY + timedelta(days=7)
    assert rules.is_overdue(TODAY - timedelta(days=1), None, TODAY)
    assert not rules.is_overdue(TODAY, None, TODAY)
    assert not rules.is_overdue(TODAY - timedelta(days=1), TODAY, TODAY)


def test_exchanged_counts_each_way_by_kind_what_was_passed_on_and_opened() -> None:
    harmed, responsible = Side.PERSON_HARMED, Side.PERSON_RESPONSIBLE
    directions = outcome.exchanged(
        [
            (responsible, Format.LETTER, False, MessageState.OPENED, 2),
            (responsible, Format.LETTER, False, MessageState.WITHHELD, 1),
            (responsible, Format.LETTER, True, MessageState.DECLINED, 1),
            (responsible, Format.AUDIO, False, MessageState.AWAITING_RECIPIENT, 1),
            (harmed, Format.VIDEO, False, MessageState.SUBMITTED, 3),
        ]
    )
    assert [d.from_side for d in directions] == [harmed, responsible]
    assert directions[0].heading == "From the person harmed to the person responsible"
    assert [(k.label, k.sent, k.passed_on, k.opened) for k in directions[0].kinds] == [
        ("Video recordings", 3, 0, 0)
    ]
    assert [(k.label, k.sent, k.passed_on, k.opened) for k in directions[1].kinds] == [
        ("Written letters", 3, 2, 2),
        ("Scanned letters", 1, 1, 0),
        ("Audio recordings", 1, 1, 0),
    ]
    assert [d.kinds for d in outcome.exchanged([])] == [[], []]
