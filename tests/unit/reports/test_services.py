"""portal/reports/services.py on both databases: each figure counts the metadata of its period
and nothing outside it."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from portal.accounts.models import Role
from portal.cases.models import Case, CaseStage, ClosingReason, Format, Side, StageMove
from portal.referrals.models import Channel, Referral, ReferralKey, Source
from portal.reports.figures import FEWER, Period
from portal.reports.services import report
from portal.settings import Settings
from tests import rows

JANUARY = Period(date(2027, 1, 1), date(2027, 1, 31))


def at(day: int, month: int = 1) -> datetime:
    return datetime(2027, month, day, 12, tzinfo=UTC)


def _referrals(db: Session) -> None:
    manager = rows.account(db, Role.SERVICE_MANAGER)
    key = ReferralKey(
        id="referral-key-1",
        public_key=secrets.token_bytes(32),
        statement=b"{}",
        signature=secrets.token_bytes(64),
        signer_account_id=manager.id,
    )
    db.add(key)
    db.flush()
    received = [(at(d), Source.POLICE) for d in (4, 5, 6, 7, 8, 11)]
    received += [(at(12), Source.SELF), (at(3, 2), Source.POLICE), (at(31, 12), Source.PRISON)]
    for number, (when, source) in enumerate(received):
        channel = Channel.SELF if source is Source.SELF else Channel.AGENCY
        db.add(
            Referral(
                reference=f"R-TEST-{number:04d}",
                channel=channel,
                source=source,
                key_id=key.id,
                ciphertext=b"sealed",
                received_at=when.replace(year=2026) if when.month == 12 else when,
            )
        )


def _case(db: Session, referred: date, first_contact: date | None) -> Case:
    case = rows.case(db)
    db.add(StageMove(case_id=case.id, stage=CaseStage.REFERRED, reached_on=referred))
    if first_contact is not None:
        db.add(StageMove(case_id=case.id, stage=CaseStage.FIRST_CONTACT, reached_on=first_contact))
        case.stage = CaseStage.FIRST_CONTACT
    return case


def test_a_report_counts_its_period_from_metadata_only(
    db_session: Session, settings: Settings
) -> None:
    db = db_session
    _referrals(db)
    monday = date(2027, 1, 4)
    contacts = [date(2027, 1, d) for d in (5, 6, 7, 11, 14)]  # 1, 2, 3, 5 and 8 working days
    cases = [_case(db, monday, first) for first in contacts]
    cases.append(_case(db, monday, None))  # no contact yet
    _case(db, date(2026, 12, 1), date(2026, 12, 2))  # referred before the period
    closed = cases[0]
    closed.stage, closed.closing_reason = CaseStage.CLOSED, ClosingReason.COMPLETED
    db.add(StageMove(case_id=closed.id, stage=CaseStage.CLOSED, reached_on=date(2027, 1, 20)))
    author = rows.participant(db, cases[1], Side.PERSON_RESPONSIBLE)
    recipient = rows.participant(db, cases[1], Side.PERSON_HARMED, withdrawn=True)
    recipient.withdrawn_at = at(15)
    for _ in range(5):
        rows.message(db, author, recipient).submitted_at = at(10)
    video = rows.message(db, author, recipient)
    video.format, video.submitted_at = Format.VIDEO, at(10)
    rows.message(db, author, recipient).submitted_at = at(10, 3)  # after the period
    db.flush()

    figures = {(r.figure, r.group): r.value for r in report(db, settings, JANUARY).rows()}

    assert figures[("Referrals", "all")] == "7"
    assert figures[("Referrals", "2027-01 Police")] == "6"
    assert figures[("Referrals", "2027-01 Self-referral")] == FEWER
    assert ("Referrals", "2027-02 Police") not in figures
    assert figures[("Time to first contact", "cases with a first contact")] == "5"
    assert figures[("Time to first contact", "median working days")] == "3"
    assert figures[("Time to first contact", "share within 5 working days")] == "80%"
    by_stage = "Cases referred in the period, by stage now"
    assert figures[(by_stage, "First contact")] == FEWER  # 4
    assert figures[(by_stage, "Closed")] == FEWER
    assert figures[("Cases closed, by reason", "Completed")] == FEWER
    assert figures[("Messages sent, by format", "Letter")] == "5"
    assert figures[("Messages sent, by format", "Video recording")] == FEWER
    assert figures[("Withdrawals, by side", "Person harmed")] == FEWER
