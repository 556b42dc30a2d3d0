"""portal/reports/figures.py: what a report may show."""

from __future__ import annotations

from datetime import date

import pytest

from portal.reports.figures import FEWER, Contact, Period, Report, Row, shown


def test_a_count_under_five_is_never_shown_as_a_number() -> None:
    assert [shown(n) for n in (0, 1, 4, 5, 12)] == [FEWER, FEWER, FEWER, "5", "12"]
    assert FEWER == "fewer than 5"


def test_a_period_names_each_month_it_touches_and_never_ends_before_it_starts() -> None:
    assert Period(date(2026, 11, 20), date(2027, 2, 1)).months() == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
    ]
    with pytest.raises(ValueError, match="ends before it starts"):
        Period(date(2027, 1, 2), date(2027, 1, 1))


def test_time_to_first_contact_is_shown_only_over_five_cases_or_more() -> None:
    few = Contact([1, 2, 3, 4], target=5).rows()
    assert [row.value for row in few] == [FEWER, f"{FEWER} cases", f"{FEWER} cases"]
    enough = Contact([1, 2, 3, 6, 9], target=5).rows()
    assert enough == [
        Row("Time to first contact", "cases with a first contact", "5"),
        Row("Time to first contact", "median working days", "3"),
        Row("Time to first contact", "share within 5 working days", "60%"),
    ]


def test_every_count_of_a_report_is_made_safe_and_referrals_add_up_by_month() -> None:
    report = Report(
        period=Period(date(2027, 1, 1), date(2027, 2, 28)),
        referrals={("2027-01", "Police"): 6, ("2027-01", "Self-referral"): 2},
        stages={"Preparation": 7, "Closed": 1},
        closed={"Completed": 1},
        formats={"Letter": 9},
        withdrawals={"Person harmed": 3},
    )
    rows = {(row.figure, row.group): row.value for row in report.rows()}
    assert rows[("Referrals", "all")] == "8"
    assert rows[("Referrals", "2027-01 all")] == "8"
    assert rows[("Referrals", "2027-02 all")] == FEWER  # none: a month is always listed
    assert rows[("Referrals", "2027-01 Police")] == "6"
    assert rows[("Referrals", "2027-01 Self-referral")] == FEWER
    assert rows[("Cases referred in the period, by stage now", "Preparation")] == "7"
    assert rows[("Cases closed, by reason", "Completed")] == FEWER
    assert rows[("Withdrawals, by side", "Person harmed")] == FEWER
    assert rows[("Period", "from")] == "2027-01-01"
