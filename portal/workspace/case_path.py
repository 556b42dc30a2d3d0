"""What the case page shows of the case's path (templates/cases/_path.html): the stage it is at
and since when, each move with its day and who recorded it, and the stages it may move to now
(``cases/states.next_stages``). Reads only; the moves are ``cases/path.py``'s."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import local_time
from portal.accounts.models import Account
from portal.cases import path
from portal.cases.models import Case, CaseStage, ClosingReason
from portal.cases.states import next_stages


@dataclass(frozen=True)
class StageChoice:
    value: str
    label: str


@dataclass(frozen=True)
class MoveView:
    stage: str  # its label
    reached_on: str  # "3 March 2027"
    recorded_by: str  # a staff sign-in name, or "The portal"


@dataclass(frozen=True)
class PathView:
    stage: str  # the label of the stage the case is at
    since: str  # the day it reached it, or "" when unknown
    closing_reason: str  # its label once closed, "" otherwise
    moves: list[MoveView]
    choices: list[StageChoice]  # empty: nothing to move to (closed, or at its outcome)
    today: str  # ISO: the date field's default and latest day
    earliest: str  # ISO: the date field's earliest day (the current stage's day)


CLOSING_CHOICES = [StageChoice(reason.value, reason.label) for reason in ClosingReason]


def path_view(db: Session, case: Case) -> PathView:
    moves = path.moves_of(db, case)
    recorders = sorted({move.recorded_by_id for move in moves if move.recorded_by_id})
    names = {
        account_id: name
        for account_id, name in db.execute(
            select(Account.id, Account.sign_in_name).where(Account.id.in_(recorders))
        )
    }
    today = path.today()
    last_day = moves[-1].reached_on if moves else local_time.local(case.created_at).date()
    return PathView(
        stage=case.stage.label,
        since=local_time.calendar_day(last_day) if moves else "",
        closing_reason=case.closing_reason.label if case.closing_reason else "",
        moves=[
            MoveView(
                move.stage.label,
                local_time.calendar_day(move.reached_on),
                names.get(move.recorded_by_id or "", "The portal"),
            )
            for move in moves
        ],
        choices=[]
        if case.stage is CaseStage.CLOSED
        else [StageChoice(stage.value, stage.label) for stage in next_stages(case.stage)],
        today=today.isoformat(),
        earliest=last_day.isoformat(),
    )
