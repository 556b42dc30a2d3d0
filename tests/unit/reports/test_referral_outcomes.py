"""Referrals by outcome (portal/reports/figures.referral_outcomes and the query behind it in
services.py): accepted, declined by reason, small counts suppressed; both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.referrals.models import Referral
from portal.referrals.states import DeclineReason, ReferralState
from portal.reports.figures import FEWER, Period, Row, referral_outcomes
from portal.reports.services import report
from portal.settings import Settings
from tests.unit.reports.test_services import _referrals

JANUARY = Period(date(2027, 1, 1), date(2027, 1, 31))
FIGURE = "Referrals by outcome"


def test_outcomes_are_counted_safely_and_declines_totalled() -> None:
    rows = referral_outcomes(
        {"accepted": 7, "declined: not suitable": 3, "declined: a duplicate": 4}
    )
    assert rows == [
        Row(FIGURE, "accepted", "7"),
        Row(FIGURE, "declined: a duplicate", FEWER),
        Row(FIGURE, "declined: not suitable", FEWER),
        Row(FIGURE, "declined, all reasons", "7"),
    ]


def test_a_report_counts_the_outcomes_of_referrals_received_in_its_period(
    db_session: Session, settings: Settings
) -> None:
    db = db_session
    _referrals(db)  # seven in January, one in February, one in December
    received = sorted(
        (r for r in db.scalars(select(Referral)) if r.received_at.month == 1),
        key=lambda r: r.reference,
    )
    for referral in received[:5]:
        referral.state = ReferralState.ACCEPTED
    received[5].state = ReferralState.DECLINED
    received[5].decline_reason = DeclineReason.OUTSIDE_AREA
    db.flush()
    rows = [row for row in report(db, settings, JANUARY).rows() if row.figure == FIGURE]
    assert rows == [
        Row(FIGURE, "accepted", "5"),
        Row(FIGURE, "declined: outside the service's area", FEWER),
        Row(FIGURE, "not decided yet", FEWER),
        Row(FIGURE, "declined, all reasons", FEWER),
    ]
