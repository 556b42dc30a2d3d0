"""The report's figures from the database, for a period: counts of metadata only (see
``figures.py`` for what may be shown). Reads only; one statement per figure, grouped in SQL
except where a date must be turned into a service-zone day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from portal import local_time
from portal.cases.models import Case, CaseStage, Participant, StageMove
from portal.feedback.models import FeedbackAnswer, Reply, RoleCategory
from portal.messages.models import Message
from portal.referrals.models import Channel, Referral, Source
from portal.referrals.rules import working_days_between
from portal.referrals.states import ReferralState
from portal.reports.figures import (
    SATISFACTION_QUESTIONS,
    Contact,
    Period,
    Report,
    Said,
    Satisfaction,
)
from portal.settings import Settings

NOT_RECORDED = "Closed before reasons were recorded"


def report(db: Session, settings: Settings, period: Period) -> Report:
    start = local_time.start_of(period.start)
    end = local_time.start_of(period.end + timedelta(days=1))
    return Report(
        period=period,
        referrals=_referrals(db, start, end),
        contact=Contact(_days_to_first_contact(db, period), settings.referral_first_contact_days),
        stages=_stages_of_referred(db, period),
        closed=_closed(db, period),
        formats={
            fmt.label: count
            for fmt, count in db.execute(
                select(Message.format, func.count())
                .where(Message.submitted_at >= start, Message.submitted_at < end)
                .group_by(Message.format)
            )
        },
        withdrawals={
            side.label: count
            for side, count in db.execute(
                select(Participant.side, func.count())
                .where(Participant.withdrawn_at >= start, Participant.withdrawn_at < end)
                .group_by(Participant.side)
            )
        },
        satisfaction=satisfaction(db, settings, period),
        outcomes=_referral_outcomes(db, start, end),
    )


def _referral_outcomes(db: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Referrals received in the period, by triage state (and decline reason)."""
    counted: dict[str, int] = {}
    rows = db.execute(
        select(Referral.state, Referral.decline_reason, func.count())
        .where(Referral.received_at >= start, Referral.received_at < end)
        .group_by(Referral.state, Referral.decline_reason)
    )
    for state, reason, count in rows:
        if state is ReferralState.DECLINED:
            group = f"declined: {reason.label.lower() if reason else 'no reason recorded'}"
        elif state is ReferralState.RECEIVED:
            group = "not decided yet"
        else:
            group = state.label.lower()
        counted[group] = counted.get(group, 0) + count
    return counted


def _referrals(db: Session, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    counted: dict[tuple[str, str], int] = {}
    rows = db.execute(
        select(Referral.received_at, Referral.source).where(
            Referral.received_at >= start, Referral.received_at < end
        )
    )
    for received_at, source in rows:
        month = local_time.local(received_at).strftime("%Y-%m")
        # A self-referral is counted as the channel it came through, not as "the person themself".
        kind = Channel.SELF.label if source is Source.SELF else Source(source).label
        key = (month, kind)
        counted[key] = counted.get(key, 0) + 1
    return counted


def _referred_in(period: Period) -> Select[str]:
    return select(StageMove.case_id).where(
        StageMove.stage == CaseStage.REFERRED,
        StageMove.reached_on >= period.start,
        StageMove.reached_on <= period.end,
    )


def _days_to_first_contact(db: Session, period: Period) -> list[int]:
    referred, contact = aliased(StageMove), aliased(StageMove)
    pairs = db.execute(
        select(referred.reached_on, func.min(contact.reached_on))
        .join(contact, contact.case_id == referred.case_id)
        .where(
            referred.stage == CaseStage.REFERRED,
            referred.reached_on >= period.start,
            referred.reached_on <= period.end,
            contact.stage == CaseStage.FIRST_CONTACT,
        )
        .group_by(referred.case_id, referred.reached_on)
    ).all()
    return [working_days_between(start, first) for start, first in pairs if first is not None]


def _stages_of_referred(db: Session, period: Period) -> dict[str, int]:
    return {
        stage.label: count
        for stage, count in db.execute(
            select(Case.stage, func.count())
            .where(Case.id.in_(_referred_in(period)))
            .group_by(Case.stage)
        )
    }


def _closed(db: Session, period: Period) -> dict[str, int]:
    rows = db.execute(
        select(Case.closing_reason, func.count())
        .join(StageMove, StageMove.case_id == Case.id)
        .where(
            StageMove.stage == CaseStage.CLOSED,
            StageMove.reached_on >= period.start,
            StageMove.reached_on <= period.end,
        )
        .group_by(Case.closing_reason)
    )
    return {(reason.label if reason else NOT_RECORDED): count for reason, count in rows}


def satisfaction(db: Session, settings: Settings, period: Period) -> Satisfaction:
    """Answers given in the months the period touches (an answer keeps only its month), per
    role category: how many answered each question and how many said yes."""
    said: dict[tuple[str, str], Said] = {}
    columns = (FeedbackAnswer.satisfied, FeedbackAnswer.recommend, FeedbackAnswer.better_able)
    for question, column in zip(SATISFACTION_QUESTIONS, columns, strict=True):
        rows = db.execute(
            select(FeedbackAnswer.role, column, func.count())
            .where(FeedbackAnswer.month.in_(period.months()), column.is_not(None))
            .group_by(FeedbackAnswer.role, column)
        )
        for role, reply, count in rows:
            before = said.get((question, role.label), Said(0, 0))
            said[(question, role.label)] = Said(
                before.yes + (count if reply is Reply.YES else 0), before.answered + count
            )
    return Satisfaction(
        said,
        groups=tuple(role.label for role in RoleCategory),
        smallest_group=settings.feedback_smallest_group,
    )
