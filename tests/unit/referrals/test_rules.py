"""portal/referrals/rules.py: reference numbers, working days, the throttle's arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.referrals import rules

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_a_reference_is_r_and_two_groups_of_four_unambiguous_symbols() -> None:
    assert rules.new_reference(bytes(5)) == "R-0000-0000"
    assert rules.new_reference(b"\xff" * 5) == "R-ZZZZ-ZZZZ"
    made = {rules.new_reference() for _ in range(200)}
    assert len(made) == 200
    assert all(rules.is_reference(reference) for reference in made)
    assert not any(set(reference) & set("ILOU") for reference in made)


@pytest.mark.parametrize("text", ["R-0000-000", "r-0000-0000", "R-I000-0000", "R-0000-0000 ", ""])
def test_anything_else_is_not_a_reference(text: str) -> None:
    assert not rules.is_reference(text)


def test_a_reference_needs_five_random_bytes() -> None:
    with pytest.raises(ValueError, match="5 random bytes"):
        rules.new_reference(bytes(4))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 12, 4), date(2026, 12, 7), 1),  # Friday to Monday
        (date(2026, 12, 5), date(2026, 12, 6), 0),  # Saturday to Sunday
        (date(2026, 12, 1), date(2026, 12, 8), 5),  # a whole week
        (date(2026, 12, 1), date(2026, 12, 1), 0),
        (date(2026, 12, 8), date(2026, 12, 1), 0),  # the wrong way round
        (date(2026, 11, 30), date(2026, 12, 14), 10),
    ],
)
def test_working_days_count_monday_to_friday_after_the_day_it_arrived(
    start: date, end: date, expected: int
) -> None:
    assert rules.working_days_between(start, end) == expected


def test_first_contact_is_overdue_only_after_the_target() -> None:
    monday = date(2026, 11, 30)
    assert not rules.first_contact_overdue(monday, date(2026, 12, 7), 5)  # 5 working days
    assert rules.first_contact_overdue(monday, date(2026, 12, 8), 5)


def test_the_throttle_leaves_room_until_the_limit_is_reached() -> None:
    recent = [NOW - timedelta(minutes=minutes) for minutes in (1, 2)]
    assert rules.retry_after(recent, 3, WINDOW, NOW) is None


def test_the_throttle_waits_until_the_oldest_counted_time_leaves_the_window() -> None:
    recent = [NOW - timedelta(minutes=minutes) for minutes in (1, 2, 10)]
    assert rules.retry_after(recent, 3, WINDOW, NOW) == 5 * 60


def test_times_outside_the_window_do_not_count() -> None:
    recent = [NOW - timedelta(minutes=minutes) for minutes in (1, 2, 16)]
    assert rules.retry_after(recent, 3, WINDOW, NOW) is None
