"""The case's path from referral to outcome: the stage it is at, each dated move, and the reason
it closed. What may move when is ``states.next_stages`` / ``stage_move_refusal``; this module
records it. Never commits.

Stages and reasons are categories, never words: they are what a commissioner's figures count
(issue 12's reports), and the server may hold no words about a case in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import local_time
from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases.models import Case, CaseStage, ClosingReason, StageMove
from portal.cases.states import reached_on_refusal, stage_refusal
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict
from portal.settings import Settings

STAGE_TAGS = {
    CaseStage.FIRST_CONTACT: AuditTag.CASE_STAGE_FIRST_CONTACT,
    CaseStage.ASSESSMENT: AuditTag.CASE_STAGE_ASSESSMENT,
    CaseStage.PREPARATION: AuditTag.CASE_STAGE_PREPARATION,
    CaseStage.COMMUNICATION: AuditTag.CASE_STAGE_COMMUNICATION,
    CaseStage.OUTCOME: AuditTag.CASE_STAGE_OUTCOME,
}
CLOSING_TAGS = {
    ClosingReason.COMPLETED: AuditTag.CASE_CLOSED_COMPLETED,
    ClosingReason.HARMED_WITHDREW: AuditTag.CASE_CLOSED_HARMED_WITHDREW,
    ClosingReason.RESPONSIBLE_WITHDREW: AuditTag.CASE_CLOSED_RESPONSIBLE_WITHDREW,
    ClosingReason.NOT_SUITABLE: AuditTag.CASE_CLOSED_NOT_SUITABLE,
    ClosingReason.NO_CONTACT: AuditTag.CASE_CLOSED_NO_CONTACT,
}


def today() -> date:
    """Today in the service's time zone: the day a facilitator means by "today"."""
    return local_time.local(utcnow()).date()


def start(
    db: Session, case: Case, facilitator: Account, referred_at: datetime | None = None
) -> None:
    """A new case starts its path as referred: on the day its referral arrived (in the
    service's time zone), or today when it was opened without one."""
    db.add(
        StageMove(
            case_id=case.id,
            stage=CaseStage.REFERRED,
            reached_on=local_time.local(referred_at).date() if referred_at else today(),
            recorded_by_id=facilitator.id,
        )
    )


def moves_of(db: Session, case: Case) -> Sequence[StageMove]:
    """The case's moves, first to last."""
    return db.scalars(
        select(StageMove)
        .where(StageMove.case_id == case.id)
        .order_by(StageMove.recorded_at, StageMove.id)
    ).all()


def _last_reached_on(db: Session, case: Case) -> date:
    moves = moves_of(db, case)
    return moves[-1].reached_on if moves else local_time.local(case.created_at).date()


def move_to(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    stage: CaseStage,
    reached_on: date | None,
) -> StageMove:
    """Record that ``case`` reached ``stage`` on ``reached_on`` (today when not given). The
    case's row is locked, so two facilitators moving it at once cannot both move it from the
    same stage."""
    lock_row(db, case)
    if (why_not := stage_refusal(case.stage, stage)) is not None:
        raise Conflict(why_not)
    day = reached_on or today()
    if (why_not := reached_on_refusal(day, _last_reached_on(db, case), today())) is not None:
        raise BadInput(why_not, field="reached_on")
    move = StageMove(case_id=case.id, stage=stage, reached_on=day, recorded_by_id=facilitator.id)
    db.add(move)
    case.stage = stage
    record(db, settings, STAGE_TAGS[stage], actor_id=facilitator.id, subject_id=case.id)
    return move


def close(
    db: Session, settings: Settings, facilitator: Account, case: Case, reason: ClosingReason
) -> None:
    """End the case's path for ``reason``, today (the caller closes the case itself, under
    its row's lock)."""
    db.add(
        StageMove(
            case_id=case.id,
            stage=CaseStage.CLOSED,
            reached_on=today(),
            recorded_by_id=facilitator.id,
        )
    )
    case.stage = CaseStage.CLOSED
    case.closing_reason = reason
    record(db, settings, CLOSING_TAGS[reason], actor_id=facilitator.id, subject_id=case.id)
