"""Pure rules for referrals: reference numbers, working days, and the submission throttle's
arithmetic. No database, no clock: callers pass what they read and the time."""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final

# Crockford's base 32 without I, L, O and U: read aloud over a phone without mix-ups.
_SYMBOLS: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REFERENCE_RE: Final = re.compile(r"R-([0-9A-HJKMNP-TV-Z]{4})-([0-9A-HJKMNP-TV-Z]{4})")


def new_reference(random_bytes: bytes | None = None) -> str:
    """R-XXXX-XXXX: 40 random bits, so guessing another referral's reference is hopeless
    (and the reference opens nothing anyway)."""
    raw = secrets.token_bytes(5) if random_bytes is None else random_bytes
    if len(raw) != 5:
        raise ValueError("a reference takes 5 random bytes")
    number = int.from_bytes(raw, "big")
    symbols = "".join(_SYMBOLS[(number >> shift) & 31] for shift in range(35, -1, -5))
    return f"R-{symbols[:4]}-{symbols[4:]}"


def is_reference(text: str) -> bool:
    return _REFERENCE_RE.fullmatch(text) is not None


def working_days_between(start: date, end: date) -> int:
    """Whole working days (Monday to Friday) after ``start`` up to and including ``end``: a
    referral that arrived on a Friday is 1 working day old on Monday. Public holidays are not
    known to the portal; 0 when ``end`` is not after ``start``."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


def first_contact_overdue(received: date, today: date, target_working_days: int) -> bool:
    """Past the target: more working days have gone by than the service allows itself."""
    return working_days_between(received, today) > target_working_days


def retry_after(
    recent: Sequence[datetime], limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds to wait, if the ``limit`` most recent counted times (newest first, all inside
    the window) fill the limit; None while there is room."""
    inside = [moment for moment in recent if moment > now - window]
    if len(inside) < limit:
        return None
    unblock_at = sorted(inside, reverse=True)[limit - 1] + window
    return max(1, math.ceil((unblock_at - now).total_seconds()))
