"""Quiet hours, the daily digest and the backoff, with the clock the test chooses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.notifications.rules import (
    LONGEST_RETRY,
    QuietHours,
    QuietHoursInvalid,
    retry_after,
    send_not_before,
)

LONDON = ZoneInfo("Europe/London")
NIGHT = QuietHours(22 * 60, 7 * 60)  # 22:00 to 07:00, over midnight
LUNCH = QuietHours(12 * 60, 13 * 60 + 30)


def at(text: str) -> datetime:
    """A London wall-clock time, as the aware UTC datetime the code is given."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def test_outside_quiet_hours_a_notice_goes_at_once() -> None:
    now = at("2026-12-02 15:00")
    assert send_not_before(now, LONDON, quiet=NIGHT, digest=False, last_sent=None) == now


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-02 22:00", "2026-12-03 07:00"),
        ("2026-12-02 23:59", "2026-12-03 07:00"),
        ("2026-12-03 00:00", "2026-12-03 07:00"),
        ("2026-12-03 06:59", "2026-12-03 07:00"),
    ],
)
def test_within_overnight_quiet_hours_a_notice_waits_for_their_end(now: str, expected: str) -> None:
    moment = send_not_before(at(now), LONDON, quiet=NIGHT, digest=False, last_sent=None)
    assert moment == at(expected)


def test_quiet_hours_within_a_day_end_that_day() -> None:
    now = at("2026-12-02 12:45")
    assert send_not_before(now, LONDON, quiet=LUNCH, digest=False, last_sent=None) == at(
        "2026-12-02 13:30"
    )
    after = at("2026-12-02 13:30")
    assert send_not_before(after, LONDON, quiet=LUNCH, digest=False, last_sent=None) == after


def test_quiet_hours_are_read_in_the_services_zone_in_summer_too() -> None:
    # 21:30 UTC in July is 22:30 in London: quiet until 07:00 London, 06:00 UTC.
    now = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)
    moment = send_not_before(now, LONDON, quiet=NIGHT, digest=False, last_sent=None)
    assert moment == datetime(2026, 7, 2, 6, 0, tzinfo=UTC)


def test_a_digest_sends_at_most_once_a_local_day() -> None:
    sent = at("2026-12-02 09:00")
    later_that_day = at("2026-12-02 18:00")
    moment = send_not_before(later_that_day, LONDON, quiet=None, digest=True, last_sent=sent)
    assert moment == at("2026-12-03 00:00")
    # With quiet hours the next day's notice waits for them to end as well.
    moment = send_not_before(later_that_day, LONDON, quiet=NIGHT, digest=True, last_sent=sent)
    assert moment == at("2026-12-03 07:00")
    next_day = at("2026-12-03 10:00")
    assert send_not_before(next_day, LONDON, quiet=NIGHT, digest=True, last_sent=sent) == next_day


def test_each_event_ignores_when_the_last_one_went() -> None:
    sent = at("2026-12-02 09:00")
    now = at("2026-12-02 09:05")
    assert send_not_before(now, LONDON, quiet=None, digest=False, last_sent=sent) == now


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    waits = [retry_after(attempt) for attempt in range(1, 8)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert all(later >= earlier for earlier, later in itertools.pairwise(waits))
    assert retry_after(50) == LONGEST_RETRY
    with pytest.raises(ValueError, match="at least one"):
        retry_after(0)


@pytest.mark.parametrize(("start", "end"), [(60, 60), (-1, 60), (60, 24 * 60)])
def test_quiet_hours_that_cover_nothing_or_no_time_are_refused(start: int, end: int) -> None:
    with pytest.raises(QuietHoursInvalid):
        QuietHours(start, end)
