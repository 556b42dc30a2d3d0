"""What a case's outcome shows was exchanged: for each side, how many letters, scanned letters
and recordings it sent, how many of those it took back, how many were passed on to the other
side, and how many were opened. A message its author withdrew (or that stopped when they
withdrew from the process) is counted as withdrawn, not as sent: a facilitator writing up the
outcome must not report as sent what the person took back.
Counted from what the server already holds about messages (their format, state and sides),
never from content. ``exchanged`` is pure; ``exchanged_in`` reads the counts in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases.models import Case, CaseStage, Format, Participant, Side
from portal.messages.models import Message
from portal.messages.states import MessageState

# Passed on to the recipient: approved and released (they may then open it, or decline it).
PASSED_ON = frozenset(
    {
        MessageState.AWAITING_RECIPIENT,
        MessageState.HELD,
        MessageState.OPENED,
        MessageState.DECLINED,
    }
)
KINDS = ("letter", "scan", "audio", "video")
KIND_LABELS = {
    "letter": "Written letters",
    "scan": "Scanned letters",
    "audio": "Audio recordings",
    "video": "Video recordings",
}
# The case page shows the outcome from these stages on.
SHOWN_AT = frozenset({CaseStage.OUTCOME, CaseStage.CLOSED})


@dataclass(frozen=True)
class KindCount:
    label: str
    sent: int  # sent for review and not withdrawn (returned and withheld ones too)
    withdrawn: int  # taken back by the author, or stopped by their withdrawal
    passed_on: int
    opened: int


@dataclass(frozen=True)
class Direction:
    from_side: Side
    kinds: list[KindCount]  # only the kinds this side sent

    @property
    def heading(self) -> str:
        return (
            f"From the {self.from_side.label.lower()} to the {self.from_side.other.label.lower()}"
        )


def kind_of(format_: Format, scanned: bool) -> str:
    if format_ is Format.LETTER:
        return "scan" if scanned else "letter"
    return format_.value


def exchanged(rows: Iterable[tuple[Side, Format, bool, MessageState, int]]) -> list[Direction]:
    """Fold (author's side, format, has scanned pages, state, how many) into both directions,
    the person harmed's first."""
    counts: dict[tuple[Side, str], list[int]] = {}
    for side, format_, scanned, state, number in rows:
        sent_withdrawn_passed_opened = counts.setdefault(
            (side, kind_of(format_, scanned)), [0, 0, 0, 0]
        )
        if state is MessageState.WITHDRAWN:
            sent_withdrawn_passed_opened[1] += number
        else:
            sent_withdrawn_passed_opened[0] += number
        if state in PASSED_ON:
            sent_withdrawn_passed_opened[2] += number
        if state is MessageState.OPENED:
            sent_withdrawn_passed_opened[3] += number
    return [
        Direction(
            side,
            [
                KindCount(KIND_LABELS[kind], *counts[(side, kind)])
                for kind in KINDS
                if (side, kind) in counts
            ],
        )
        for side in (Side.PERSON_HARMED, Side.PERSON_RESPONSIBLE)
    ]


def exchanged_in(db: Session, case: Case) -> list[Direction]:
    scanned = Message.page_count.is_not(None)
    rows = db.execute(
        select(Participant.side, Message.format, scanned, Message.state, func.count())
        .join(Participant, Participant.id == Message.author_participant_id)
        .where(Message.case_id == case.id)
        .group_by(Participant.side, Message.format, scanned, Message.state)
    ).all()
    return exchanged((side, fmt, bool(scan), state, int(n)) for side, fmt, scan, state, n in rows)
