"""When a notice may go: quiet hours, the daily digest and the backoff after a failure.

Pure: no database and no clock. Every function is given ``now`` (an aware UTC datetime) and
the service's zone, so tests choose the moment and the runner passes the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

MINUTES_A_DAY = 24 * 60
# After a failed send: 1, 2, 4... minutes, never more than 6 hours between tries. Notices are
# never given up on while the person keeps them on: an outage loses nothing.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


class QuietHoursInvalid(ValueError):
    """Quiet hours that start when they end (they would cover nothing, or everything)."""


@dataclass(frozen=True)
class QuietHours:
    """From ``start`` to ``end`` (minutes after local midnight); may run over midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < MINUTES_A_DAY and 0 <= self.end < MINUTES_A_DAY):
            raise QuietHoursInvalid("minutes after midnight, within one day")
        if self.start == self.end:
            raise QuietHoursInvalid("quiet hours must end at another time than they start")

    def covers(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def end_after(self, local: datetime) -> datetime:
        """The first moment after ``local`` (which they cover) at which they are over."""
        end = local.replace(hour=self.end // 60, minute=self.end % 60, second=0, microsecond=0)
        if end <= local:
            end = _same_wall_time_next_day(end)
        return end


def _same_wall_time_next_day(local: datetime) -> datetime:
    """The same wall-clock time a day later (across a change to or from summer time too)."""
    zone = local.tzinfo
    next_day = local.date() + timedelta(days=1)
    return datetime.combine(next_day, local.timetz().replace(tzinfo=None), tzinfo=zone)


def outside_quiet_hours(moment: datetime, zone: tzinfo, quiet: QuietHours | None) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (UTC either way)."""
    if quiet is None:
        return moment
    local = moment.astimezone(zone)
    if not quiet.covers(local):
        return moment
    return quiet.end_after(local).astimezone(UTC)


def start_of_next_day(moment: datetime, zone: tzinfo) -> datetime:
    """Local midnight after ``moment``, in UTC."""
    local = moment.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def send_not_before(
    now: datetime,
    zone: tzinfo,
    *,
    quiet: QuietHours | None,
    digest: bool,
    last_sent: datetime | None,
) -> datetime:
    """The earliest moment a notice queued ``now`` may go.

    A digest person hears at most once a local day: after a notice today, the next waits for
    tomorrow. Anyone's notice waits out their quiet hours."""
    earliest = now
    if digest and last_sent is not None:
        earliest = max(earliest, start_of_next_day(last_sent, zone))
    return outside_quiet_hours(earliest, zone, quiet)


def retry_after(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try (1 -> a minute, doubling)."""
    if attempts < 1:
        raise ValueError("a retry follows at least one failed try")
    # Past 2**9 minutes the cap holds anyway; the exponent is bounded so it stays small.
    factor: int = 1 << min(attempts - 1, 10)
    wait: timedelta = FIRST_RETRY * factor
    return min(wait, LONGEST_RETRY)
