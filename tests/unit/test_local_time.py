"""portal/local_time.py: what a page says a time was, in the service's own zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from portal import local_time


@pytest.fixture(autouse=True)
def london() -> Iterator[None]:
    local_time.use(local_time.zone_named("Europe/London"))
    yield
    local_time.use(local_time.zone_named(local_time.DEFAULT_ZONE))


def test_summer_times_are_an_hour_ahead_of_utc_and_winter_times_are_not() -> None:
    summer = datetime(2026, 7, 3, 23, 30, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 16, 5, tzinfo=UTC)
    assert local_time.day_and_time(summer) == "4 Jul 2026, 00:30"  # the next day, locally
    assert local_time.day(summer) == "4 July 2026"
    assert local_time.day_and_time(winter) == "1 Dec 2026, 16:05"
    assert local_time.short_day(winter) == "1 Dec 2026"
    assert local_time.time_of_day(winter) == "16:05"


def test_naive_datetimes_are_read_as_utc_and_none_says_nothing() -> None:
    assert local_time.time_of_day(datetime(2026, 7, 3, 12, 0)) == "13:00"
    for words in (local_time.day, local_time.short_day, local_time.day_and_time):
        assert words(None) == ""


def test_another_zone_is_used_everywhere_once_chosen() -> None:
    local_time.use(local_time.zone_named("Australia/Sydney"))
    assert local_time.zone_name() == "Australia/Sydney"
    assert local_time.day_and_time(datetime(2026, 12, 1, 16, 5, tzinfo=UTC)) == "2 Dec 2026, 03:05"


def test_an_unknown_zone_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Nowhere/Town"):
        local_time.zone_named("Nowhere/Town")


def test_the_words_are_strftimes_for_every_month_and_minute_of_a_day() -> None:
    """The month names come from a table (cheaper than strftime): the same words as strftime's
    %B and %b in the C locale, hours and minutes zero-padded, the day unpadded."""
    for month in range(1, 13):
        for hour, minute in ((0, 0), (9, 5), (13, 59), (23, 30)):
            moment = datetime(2026, month, 3, hour, minute, tzinfo=UTC)
            at = local_time.local(moment)
            assert local_time.day(moment) == f"{at.day} {at.strftime('%B %Y')}"
            assert local_time.short_day(moment) == f"{at.day} {at.strftime('%b %Y')}"
            assert local_time.day_and_time(moment) == f"{at.day} {at.strftime('%b %Y, %H:%M')}"
        on = datetime(2026, month, 9).date()
        assert local_time.calendar_day(on) == f"9 {on.strftime('%B %Y')}"
