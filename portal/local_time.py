"""Times as people read them: in the service's own time zone (``PORTAL_TIME_ZONE``, default
Europe/London), never in UTC, which nobody outside a server room reads. The database keeps
aware UTC datetimes; only the words on a page change.

The zone is one setting of the whole process, set once at start-up (``use``), because the
pages' words are made in templates and in the services that shape a page alike, and a time
read in two zones on one screen would be worse than either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Europe/London"

_zone: ZoneInfo = ZoneInfo(DEFAULT_ZONE)


def zone_named(name: str) -> ZoneInfo:
    """The zone, or ValueError naming it if this machine does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as unknown:
        raise ValueError(f"unknown time zone {name!r}") from unknown


def use(zone: ZoneInfo) -> None:
    global _zone
    _zone = zone


def local(moment: datetime) -> datetime:
    """``moment`` in the service's zone (a naive one is taken as UTC, as the database's are)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone)


def start_of(day: date) -> datetime:
    """The moment ``day`` begins in the service's zone, in UTC (an end date people choose)."""
    return datetime.combine(day, time(0), tzinfo=_zone).astimezone(UTC)


# English month names, as strftime's %B and %b give them in the C locale (the one a Python
# process keeps unless it calls setlocale, which the portal never does): from a table, since
# strftime cost more than the rest of a time's words, and pages list many times.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS_SHORT = tuple(name[:3] for name in _MONTHS)


def day(moment: datetime | None) -> str:
    """ "3 March 2025", or "" for none."""
    if moment is None:
        return ""
    at = local(moment)
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year}"


def calendar_day(on: date) -> str:
    """A calendar date (no time, so no zone) as "3 March 2025"."""
    return f"{on.day} {_MONTHS[on.month - 1]} {on.year}"


def short_day(moment: datetime | None) -> str:
    """ "3 Mar 2025", or "" for none."""
    if moment is None:
        return ""
    at = local(moment)
    return f"{at.day} {_MONTHS_SHORT[at.month - 1]} {at.year}"


def day_and_time(moment: datetime | None) -> str:
    """ "3 Mar 2025, 14:05", or "" for none."""
    if moment is None:
        return ""
    at = local(moment)
    return f"{at.day} {_MONTHS_SHORT[at.month - 1]} {at.year}, {at.hour:02}:{at.minute:02}"


def time_of_day(moment: datetime | None) -> str:
    """ "14:05", or "" for none."""
    return f"{local(moment):%H:%M}" if moment is not None else ""


def zone_name() -> str:
    """ "Europe/London": said where times are listed, such as the audit trail."""
    return _zone.key


def install(filters: dict[str, object], globals_: dict[str, object]) -> None:
    """The same words in templates: ``{{ at | day_and_time }}`` and the rest."""
    filters.update(day=day, short_day=short_day, day_and_time=day_and_time, time_of_day=time_of_day)
    globals_["time_zone_name"] = zone_name
