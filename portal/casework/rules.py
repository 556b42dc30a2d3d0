"""What may change in a case's records, and when an agreement item needs following up. Pure:
no database, no clock (today is passed in).

A closed case's records are locked: nothing is added, completed, moved or removed (closing is
the case's last word). A completed agreement item keeps its due day: what was done is done. A
paused case keeps its records open: notes are often most needed then.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from portal.cases.models import CaseCondition

# The facilitator's home lists items due within this many days, and every overdue one.
FOLLOW_UP_DAYS = 7
# How far from today a due day may be: an item agreed a while ago may be entered late.
DUE_DAYS_BEFORE = 366
DUE_DAYS_AFTER = 5 * 366
COMPLETED_DAYS_BEFORE = 366

CLOSED = "This case is closed: its records can no longer change."


class ItemAction(StrEnum):
    COMPLETE = "complete"
    # A new due day agreed (an agreement renegotiated, an extension given).
    CHANGE_DUE = "change-due"
    REMOVE = "remove"


def records_refusal(status: CaseCondition) -> str | None:
    """Why nothing may be added to the case's records now, or None."""
    return CLOSED if status is CaseCondition.CLOSED else None


def item_refusal(status: CaseCondition, completed: bool, action: ItemAction) -> str | None:
    """Why an agreement item may not be completed, given a new due day or removed now, or
    None."""
    if status is CaseCondition.CLOSED:
        return CLOSED
    if action is ItemAction.COMPLETE and completed:
        return "This item is already marked completed. Please reload the page."
    if action is ItemAction.CHANGE_DUE and completed:
        return "This item is marked completed: its due date no longer changes."
    return None


def due_refusal(due: date, today: date) -> str | None:
    if due < today - timedelta(days=DUE_DAYS_BEFORE):
        return "Choose a due date within the last year, or later."
    if due > today + timedelta(days=DUE_DAYS_AFTER):
        return "Choose a due date within the next five years."
    return None


def new_due_refusal(due: date, current: date, today: date) -> str | None:
    """Why ``due`` may not become an item's due day in place of ``current``, or None."""
    if due == current:
        return "It is already due on that day. Choose another date."
    return due_refusal(due, today)


def first_due_after_change(first: date | None, current: date, due: date) -> date | None:
    """The day first agreed, kept beside a new due day: the first move keeps the day it moved
    from; a move back to the day first agreed leaves nothing to say."""
    first_agreed = current if first is None else first
    return None if due == first_agreed else first_agreed


def completed_refusal(completed: date, today: date) -> str | None:
    if completed > today:
        return "The day it was completed cannot be in the future."
    if completed < today - timedelta(days=COMPLETED_DAYS_BEFORE):
        return "Choose a day within the last year."
    return None


def follow_up_by(today: date) -> date:
    """The last due day the home's "Agreement follow-ups" lists (overdue ones included)."""
    return today + timedelta(days=FOLLOW_UP_DAYS)


def is_overdue(due: date, completed: date | None, today: date) -> bool:
    return completed is None and due < today
